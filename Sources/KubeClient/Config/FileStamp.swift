import Foundation
import Synchronization

/// What identifies one version of a file that may be replaced at any time (a rotated token, a
/// mounted Secret): the file reached through every symlink, by device, inode, modification
/// time and size. A kubelet rotation leaves `tls.crt -> ..data/tls.crt` as it is and swaps
/// `..data` to a new folder, so only the file at the end of the links shows the change.
public enum FileStamp {
    public static func of(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "missing" }
        return "\(info.st_dev):\(info.st_ino)|\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)|\(info.st_size)"
    }
}
