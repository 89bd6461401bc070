import DepotEngine
import DepotStorage
import Glibc
import TestRandomness

/// A fresh data directory per test, removed afterwards.
final class TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/depot-test-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    deinit { _ = system("rm -rf '\(path)'") }
}

/// Small chunks and segments so tests exercise many chunks and segment rolls quickly.
func testConfiguration(_ directory: String, segmentSize: Int = 1 << 20) -> EngineConfiguration {
    EngineConfiguration(
        dataDirectory: directory,
        chunking: ChunkerParameters(minimum: 4 << 10, average: 16 << 10, maximum: 64 << 10),
        segmentSize: segmentSize)
}

extension Engine {
    /// Stores `bytes` as one object, fed in uneven pieces as a network would.
    @discardableResult
    func put(_ bucket: String, _ key: String, _ bytes: [UInt8], owner: String = "tester") async throws -> ObjectRecord {
        let session = try startIngest(bucket: bucket, key: key)
        var offset = 0
        var step = 1000
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            try session.write(Array(bytes[offset..<end]))
            offset = end
            step = step * 3 % 70_001 + 1
        }
        return try await session.commit(metadata: ObjectMetadata(owner: owner))
    }

    func get(_ bucket: String, _ key: String) throws -> [UInt8]? {
        try openObject(bucket: bucket, key: key)?.readAll()
    }

    func dump() throws -> [String] {
        var lines: [String] = []
        try dumpIndex { lines.append($0) }
        return lines
    }
}
