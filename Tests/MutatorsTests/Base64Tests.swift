import Foundation
import TestSupport
import Testing

@testable import Mutators

@Suite("The patch's base64")
struct Base64Tests {
    /// Every length's padding, every byte value, appended after what the buffer already holds.
    @Test func matchesFoundationsEncodingForEveryLengthAndByte() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var out = Array("prefix".utf8)
            Base64.append(bytes, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "prefix" + Data(bytes).base64EncodedString(), "length \(length)")
        }
        let all = (0...255).map(UInt8.init)
        var out: [UInt8] = []
        Base64.append(all, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == Data(all).base64EncodedString())
    }
}
