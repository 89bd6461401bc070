import Foundation
import Glibc
import Testing

/// Which pages of the file at `path` are in the page cache (mincore over a read-only map): for
/// the tests of what the segment store leaves cached after syncs and reads.
func residentPages(_ path: String) throws -> [Bool] {
    let fd = open(path, O_RDONLY)
    try #require(fd >= 0)
    defer { close(fd) }
    var info = stat()
    try #require(fstat(fd, &info) == 0)
    let size = Int(info.st_size)
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0)
    try #require(map != MAP_FAILED)
    defer { munmap(map, size) }
    var vector = [UInt8](repeating: 0, count: (size + page - 1) / page)
    try #require(mincore(map, size, &vector) == 0)
    return vector.map { $0 & 1 == 1 }
}
