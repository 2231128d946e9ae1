import Foundation
import JSON
import Locality

extension PodDraft {
    /// Records the pod's datasets where Fluid's `DatasetUsageInjector` does
    /// (`fluid.io/datasets-in-use`: dataset names, merged with those already there, sorted,
    /// comma-separated), so Fluid's controllers see which pods use a dataset.
    mutating func recordDatasetUsage(_ datasets: [ResolvedDataset]) {
        let existing = pod["metadata"]?["annotations"]?[Keys.fluidDatasetsInUse]?.stringValue
        var names = Set(datasets.map(\.ref.name))
        for name in (existing ?? "").split(separator: ",") {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty { names.insert(trimmed) }
        }
        let value = names.sorted().joined(separator: ",")
        if value != existing { setAnnotation(Keys.fluidDatasetsInUse, value) }
    }
}
