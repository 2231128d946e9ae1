// The Locality module
@_exported import KubeClient
