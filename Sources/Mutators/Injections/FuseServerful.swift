import Locality

extension PodDraft {
    /// Serverful mode: the node's FUSE (Fluid's CSI plugin) serves the PVC volume; the pod keeps it
    /// and its mounts get `HostToContainer`, so a remount on the node reaches the pod.
    mutating func wireServerful(_ d: ResolvedDataset, via: String) -> [Explanation] {
        var out: [Explanation] = []
        for volume in d.volumes {
            let n = setPropagation(volume: volume, to: "HostToContainer", includeInit: true)
            if explain {
                out.append(
                    Explanation(
                        dataset: d.refDescription, rule: Wiring.fuseServerful.rawValue,
                        text:
                            "kept PVC volume \(volume) for \(d.ref) (\(d.engine), served by the node's FUSE through Fluid's CSI plugin) "
                            + "and set mountPropagation HostToContainer on its \(n) mount(s), so a remount on the node reaches the "
                            + "pod (\(via))"
                    ))
            }
        }
        return out
    }
}
