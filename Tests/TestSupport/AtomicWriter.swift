import Foundation

#if canImport(Glibc)
    import CoreFoundation
    import Glibc
#endif

/// Lays out a ConfigMap or Secret volume as the kubelet's atomic writer does
/// (`pkg/volume/util/atomic_writer.go`): the files live in a timestamped folder `..<time>`,
/// `..data` links to it, and each visible name links through `..data`. An update writes a new
/// folder, points a new `..data_tmp` link at it and renames that over `..data` (the one atomic
/// step), then removes the old folder: a reader sees the old files or the new ones, never a mix,
/// and a file opened by its visible name resolves to the new folder only after the swap.
public enum AtomicWriter: Sendable {
    public struct File: Sendable {
        public var path: String
        public var data: Data
        public var mode: Int64
    }

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// Writes `files` into `dir` (created if needed), replacing what an earlier write put there.
    public static func write(_ files: [File], to dir: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let dataLink = "\(dir)/..data"
        let old = try? fm.destinationOfSymbolicLink(atPath: dataLink)
        let oldNames = Set((try? fm.contentsOfDirectory(atPath: dir))?.filter { !$0.hasPrefix("..") } ?? [])

        var stamp = timespec()
        clock_gettime(CLOCK_REALTIME, &stamp)
        var tm = tm()
        var seconds = stamp.tv_sec
        gmtime_r(&seconds, &tm)
        let payload = String(
            format: "..%04d_%02d_%02d_%02d_%02d_%02d.%09d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            stamp.tv_nsec)
        for f in files {
            let target = "\(dir)/\(payload)/\(f.path)"
            try fm.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try f.data.write(to: URL(fileURLWithPath: target))
            chmod(target, mode_t(f.mode))
        }
        chmod("\(dir)/\(payload)", 0o755)

        let tmpLink = "\(dir)/..data_tmp"
        try? fm.removeItem(atPath: tmpLink)
        try fm.createSymbolicLink(atPath: tmpLink, withDestinationPath: payload)
        guard rename(tmpLink, dataLink) == 0 else {
            throw Failure(description: "rename \(tmpLink) over \(dataLink): \(String(cString: strerror(errno)))")
        }

        let names = Set(files.map { String($0.path.split(separator: "/").first ?? "") })
        for name in names where (try? fm.destinationOfSymbolicLink(atPath: "\(dir)/\(name)")) == nil {
            try fm.createSymbolicLink(atPath: "\(dir)/\(name)", withDestinationPath: "..data/\(name)")
        }
        for name in oldNames.subtracting(names) { try? fm.removeItem(atPath: "\(dir)/\(name)") }
        if let old, old != payload { try? fm.removeItem(atPath: "\(dir)/\(old)") }
    }
}
