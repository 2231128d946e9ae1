import Foundation
import JSON
import Locality

extension PodDraft {
    /// Records the pod's datasets where Fluid's `DatasetUsageInjector` does
    /// (`fluid.io/datasets-in-use`: dataset names, merged with those already there, sorted,
    /// comma-separated), so Fluid's controllers see which pods use a dataset.
    mutating func recordDatasetUsage(_ datasets: [ResolvedDataset]) {
        let existing = pod["metadata"]?["annotations"]?[Keys.fluidDatasetsInUse]?.stringValue
        if existing == nil, datasets.count == 1 {
            setAnnotation(Keys.fluidDatasetsInUse, datasets[0].ref.name)
            return
        }
        var names = datasets.map(\.ref.name)
        for name in (existing ?? "").split(separator: ",") {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty { names.append(trimmed) }
        }
        // Sorted, each once (a pod has a few datasets: no set to hash them into).
        names.sort()
        var unique: [String] = []
        unique.reserveCapacity(names.count)
        for name in names where unique.last != name { unique.append(name) }
        let value = unique.joined(separator: ",")
        if value != existing { setAnnotation(Keys.fluidDatasetsInUse, value) }
    }
}
