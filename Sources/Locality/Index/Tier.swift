import Foundation
import Synchronization

/// Cache tiers, fastest first.
public enum Tier: String, Sendable, CaseIterable, Codable {
    case memory, ssd, hdd

    /// Fluid's `mediumtype` (`MEM`, `SSD`, `HDD`).
    public init?(mediumType: String) {
        switch mediumType.uppercased() {
        case "MEM", "MEMORY": self = .memory
        case "SSD", "NVME": self = .ssd
        case "HDD", "DISK": self = .hdd
        default: return nil
        }
    }
}

/// Cached bytes of one dataset on one node, per tier.
public struct TierBytes: Sendable, Hashable {
    public var memory: Int64 = 0
    public var ssd: Int64 = 0
    public var hdd: Int64 = 0

    public init(memory: Int64 = 0, ssd: Int64 = 0, hdd: Int64 = 0) {
        self.memory = memory
        self.ssd = ssd
        self.hdd = hdd
    }

    public var total: Int64 { memory + ssd + hdd }

    public subscript(tier: Tier) -> Int64 {
        get {
            switch tier {
            case .memory: memory
            case .ssd: ssd
            case .hdd: hdd
            }
        }
        set {
            switch tier {
            case .memory: memory = newValue
            case .ssd: ssd = newValue
            case .hdd: hdd = newValue
            }
        }
    }
}
