public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a file the service must read cannot be read, in words an operator can act on: missing,
/// permission denied (with the user the process runs as, since a Secret volume's mode or owner
/// is the usual cause), a directory, or what the system said.
public enum FileAccess {
    /// nil when `path` opens for reading; else the problem, phrased to follow the file's name
    /// ("… /etc/locus/tls/tls.key: permission denied …").
    public static func problem(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        let error = errno
        if fd >= 0 {
            defer { close(fd) }
            var info = stat()
            if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { return "is a directory, not a file" }
            return nil
        }
        switch error {
        case ENOENT:
            var link = stat()
            if lstat(path, &link) == 0 { return "is missing: it is a link to a file that does not exist" }
            return "is missing (no such file)"
        case ENOTDIR:
            return "is missing (a folder on its path is a file)"
        case EACCES, EPERM:
            return "cannot be read: permission denied (locus runs as uid \(getuid()), gid \(getgid()))"
        default:
            return "cannot be read: \(String(cString: strerror(error)))"
        }
    }

    /// The file's bytes, or an error naming `what` and the file with why it cannot be read.
    public static func read(_ path: String, what: String) throws -> Data {
        if let problem = problem(path) { throw FileAccessError(description: "\(what) \(path) \(problem)") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileAccessError(description: "\(what) \(path) cannot be read")
        }
        return data
    }
}

/// A file that could not be read (`FileAccess.read`); the description names it and says why.
public struct FileAccessError: Error, CustomStringConvertible {
    public let description: String
}
