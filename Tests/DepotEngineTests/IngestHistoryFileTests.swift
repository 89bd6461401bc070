import DepotEngine
import Glibc
import Testing

/// The console's ingest history and the cameras' last recordings outlive a restart (issue 20),
/// every way of uploading counts once, and a damaged file is ignored rather than fatal.
struct IngestHistoryFileTests {
    static let camera: [(String, String)] = [("event-instancename", "frontdoor"), ("productid", "agent-1")]

    func dayTotal(_ engine: Engine) -> (bytes: UInt64, objects: UInt64) {
        engine.ingestHistory.samples(minutes: IngestHistory.slots, endingAt: Engine.now()).reduce((0, 0)) {
            ($0.0 + $1.bytes, $0.1 + $1.objects)
        }
    }

    func put(_ engine: Engine, _ key: String, _ bytes: [UInt8]) async throws {
        let session = try engine.startIngest(bucket: "rec", key: key)
        try session.write(bytes)
        _ = try await session.commit(metadata: ObjectMetadata(owner: "t", userMetadata: Self.camera))
    }

    @Test func historyAndLatestRecordingSurviveAReopen() async throws {
        let dir = TemporaryDirectory()
        do {
            let engine = try Engine(configuration: testConfiguration(dir.path))
            try await engine.createBucket("rec", owner: "t")
            try await put(engine, "frontdoor/1.mp4", Array(repeating: 7, count: 1000))
            try await put(engine, "frontdoor/2.mp4", Array(repeating: 8, count: 500))
            engine.shutdown()
        }
        #expect(access(dir.path + "/ingest-history", F_OK) == 0)
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        #expect(dayTotal(engine) == (1500, 2))
        #expect(engine.latestRecordings.latest(device: "agent-1", camera: "")?.key == "frontdoor/2.mp4")
        #expect(engine.latestRecordings.latest(device: "other", camera: "frontdoor")?.key == "frontdoor/2.mp4")
        // Nothing new since the reopen: no write.
        #expect(engine.saveIngestHistory() == false)
    }

    @Test func multipartUploadCountsOnceEvenWhenCompletedTwice() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("rec", owner: "t")
        let id = try await engine.createUpload(
            UploadRecord(
                bucket: "rec", key: "big", created: Engine.now(),
                metadata: ObjectMetadata(owner: "t", userMetadata: Self.camera)))
        for number in 1...2 {
            let session = try engine.startPart(uploadId: id, number: number)
            try session.write(Array(repeating: UInt8(number), count: 3000))
            _ = try await session.commitPart()
        }
        for _ in 0..<2 {
            _ = try await engine.completeUpload(uploadId: id, parts: [(1, nil), (2, nil)], minimumPartSize: 0) { _, _ in
                CompletedObject(etag: "e-2")
            }
        }
        #expect(dayTotal(engine) == (6000, 1))
        #expect(engine.latestRecordings.latest(device: "agent-1", camera: "")?.key == "big")
    }

    @Test func aDamagedFileIsIgnoredAndReplacedByTheNextSave() async throws {
        let dir = TemporaryDirectory()
        do {
            let engine = try Engine(configuration: testConfiguration(dir.path))
            try await engine.createBucket("rec", owner: "t")
            try await put(engine, "frontdoor/1.mp4", Array(repeating: 1, count: 1234))
            engine.shutdown()
        }
        let path = dir.path + "/ingest-history"
        // One byte flipped in the middle: the checksum no longer matches.
        let fd = open(path, O_RDWR)
        #expect(fd >= 0)
        var byte: UInt8 = 0
        #expect(pread(fd, &byte, 1, 6) == 1)
        byte ^= 0xff
        #expect(pwrite(fd, &byte, 1, 6) == 1)
        close(fd)
        do {
            let engine = try Engine(configuration: testConfiguration(dir.path))
            #expect(dayTotal(engine) == (0, 0))
            #expect(engine.latestRecordings.latest(device: "agent-1", camera: "") == nil)
            try await put(engine, "frontdoor/2.mp4", Array(repeating: 2, count: 99))
            engine.shutdown()
        }
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        #expect(dayTotal(engine) == (99, 1))
    }

    @Test func aTruncatedOrForeignFileIsIgnored() async throws {
        for contents in ["", "DIH1", "not a history file at all", "DIH1\u{1}\u{2}\u{3}\u{4}\u{5}"] {
            let dir = TemporaryDirectory()
            let fd = open(dir.path + "/ingest-history", O_WRONLY | O_CREAT, 0o600)
            _ = Array(contents.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            let engine = try Engine(configuration: testConfiguration(dir.path))
            #expect(dayTotal(engine) == (0, 0))
            engine.shutdown()
        }
    }
}
