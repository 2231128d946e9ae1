import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// Splits a byte stream into newline-terminated lines, across chunk boundaries.
struct LineSplitter {
    private var buffer = ByteBuffer()
    let maxLine: Int

    init(maxLine: Int = 32 << 20) { self.maxLine = maxLine }

    mutating func append(_ chunk: ByteBuffer) throws {
        var chunk = chunk
        buffer.writeBuffer(&chunk)
        if buffer.readableBytes > maxLine, buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) == nil {
            throw KubeAPIError.decoding(path: "watch", reason: "a watch event is longer than \(maxLine) bytes")
        }
    }

    mutating func nextLine() -> ByteBuffer? {
        while let nl = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = nl - buffer.readerIndex
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) {
                return line
            }
        }
        if buffer.readerIndex > 4096 { buffer.discardReadBytes() }
        return nil
    }

    /// Whatever follows the last newline, if it is not blank.
    mutating func remainder() -> ByteBuffer? {
        let rest = buffer.readSlice(length: buffer.readableBytes)
        guard let rest, rest.readableBytesView.contains(where: { $0 > UInt8(ascii: " ") }) else { return nil }
        return rest
    }
}
