public import JSON
import Locality

/// How a pod opted in.
public struct OptIn: Sendable, Equatable {
    public var fuseMode: MutationConfig.FuseMode
    /// Which label opted the pod in, for explanations.
    public var via: String

    /// nil when the pod did not opt in, or opted out, or Fluid's webhook already injected it.
    public static func evaluate(
        labels: StringMembers, annotations: StringMembers, namespaceLabels: [String: String], config: MutationConfig
    ) -> OptIn? {
        if labels[Keys.fluidEnableInjection] == "false" || labels[Keys.fluidSidecarDone] == "true" { return nil }
        if labels[Keys.fluidServerlessInject] == "true" {
            return OptIn(fuseMode: .sidecar, via: "pod label \(Keys.fluidServerlessInject)=true")
        }
        if labels[Keys.fluidServerfulInject] == "true" {
            return OptIn(fuseMode: .serverful, via: "pod label \(Keys.fluidServerfulInject)=true")
        }
        let via: String
        if labels[Keys.inject] == "true" {
            via = "pod label \(Keys.inject)=true"
        } else if namespaceLabels[Keys.inject] == "true", labels[Keys.inject] != "false" {
            via = "namespace label \(Keys.inject)=true"
        } else {
            return nil
        }
        let mode = annotations[Keys.fuseMode].flatMap { MutationConfig.FuseMode(rawValue: $0) } ?? config.defaultFuseMode
        return OptIn(fuseMode: mode, via: via)
    }
}
