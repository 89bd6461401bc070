import DepotStorage
import Glibc
import Testing

struct LMDBTests {
    @Test func mapGrowsInsteadOfFailingWhenFull() throws {
        var template = Array("/tmp/depot-lmdb-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        defer { _ = system("rm -rf '\(dir)'") }
        // A 256 KiB map holds far less than what is written below.
        let environment = try LMDBEnvironment(path: dir + "/index", tables: ["t"], initialMapSize: 256 << 10)
        let table = environment.table("t")
        for batch in 0..<20 {
            try environment.write { txn in
                for i in 0..<200 {
                    let key = Array("key-\(batch)-\(i)".utf8)
                    try txn.put(table, key, [UInt8](repeating: UInt8(i & 0xff), count: 1000))
                }
            }
        }
        #expect(environment.mapSize > 256 << 10)
        let count = try environment.read { try $0.count(table) }
        #expect(count == 4000)
        let value = try environment.read { try $0.get(table, Array("key-19-199".utf8)) }
        #expect(value == [UInt8](repeating: 199, count: 1000))
    }
}
