import Testing

@testable import DepotVault

/// The tus numeric headers are non-negative decimal integers (tus 1.0.0): `+5`, ` 5`, `0x10` and
/// `-0` are refused with the header named, not read as numbers (Swift's `UInt64("+5")` is 5).
struct TusHeadersTests {
    @Test(arguments: ["+5", " 5", "5 ", "-0", "0x10", "1e3", "", "18446744073709551616", "５"])
    func notANonNegativeDecimalIntegerIsRefused(_ text: String) {
        #expect(TusHeaders.integer(text) == nil)
        #expect(
            VaultParserFuzzEntryPoints.tusCreationLength(
                uploadLength: text.isEmpty ? nil : text, deferLength: nil, maxSize: 1 << 40)
                == nil)
        #expect(!VaultParserFuzzEntryPoints.tusPatch(uploadOffset: text, contentLength: nil, offset: 5, length: 10).accepted)
    }

    @Test func digitsAreRead() {
        #expect(TusHeaders.integer("0") == 0)
        #expect(TusHeaders.integer("007") == 7)
        #expect(TusHeaders.integer("18446744073709551615") == UInt64.max)
    }

    @Test func creationNamesWhatIsWrong() throws {
        #expect(try TusHeaders.creationLength(uploadLength: "1000", deferLength: nil, maxSize: 1000) == 1000)
        #expect(
            message { try TusHeaders.creationLength(uploadLength: "+1000", deferLength: nil, maxSize: 1000) }
                .contains("Upload-Length must be a non-negative decimal integer"))
        #expect(
            message { try TusHeaders.creationLength(uploadLength: nil, deferLength: "1", maxSize: 1000) }
                .contains("Upload-Defer-Length is not supported"))
        #expect(
            message { try TusHeaders.creationLength(uploadLength: "10", deferLength: "1", maxSize: 1000) }
                .contains("not both"))
        #expect(
            message { try TusHeaders.creationLength(uploadLength: nil, deferLength: nil, maxSize: 1000) }
                == "Upload-Length is required")
        #expect(status { try TusHeaders.creationLength(uploadLength: "1001", deferLength: nil, maxSize: 1000) } == 413)
        #expect(status { try TusHeaders.creationLength(uploadLength: "0", deferLength: nil, maxSize: 1000) } == 400)
    }

    @Test func patchChecksOffsetAndRoomLeft() throws {
        #expect(try TusHeaders.patchBodyLength(uploadOffset: "4", contentLength: "6", offset: 4, length: 10) == 6)
        #expect(try TusHeaders.patchBodyLength(uploadOffset: "4", contentLength: nil, offset: 4, length: 10) == nil)
        #expect(status { try TusHeaders.patchBodyLength(uploadOffset: "3", contentLength: "1", offset: 4, length: 10) } == 409)
        #expect(status { try TusHeaders.patchBodyLength(uploadOffset: "+4", contentLength: "1", offset: 4, length: 10) } == 400)
        #expect(status { try TusHeaders.patchBodyLength(uploadOffset: "4", contentLength: "7", offset: 4, length: 10) } == 413)
        #expect(status { try TusHeaders.patchBodyLength(uploadOffset: nil, contentLength: "1", offset: 4, length: 10) } == 400)
        // A stored offset past the length (never written, but not trusted) is a conflict, not a trap.
        #expect(status { try TusHeaders.patchBodyLength(uploadOffset: "20", contentLength: "1", offset: 20, length: 10) } == 409)
    }

    private func error(_ body: () throws -> Any?) -> VaultError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? VaultError
        }
    }

    private func message(_ body: () throws -> Any?) -> String { error(body)?.message ?? "accepted" }
    private func status(_ body: () throws -> Any?) -> Int? { error(body)?.status.code }
}
