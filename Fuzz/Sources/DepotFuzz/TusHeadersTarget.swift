import DepotVault

/// `tus-headers`: the numeric tus headers as the server reads them. Input lines (a missing or empty
/// line is a header not sent): Upload-Length, Upload-Defer-Length, Upload-Offset, Content-Length,
/// and the offset the upload has stored (digits; anything else is 0).
enum TusHeadersTarget {
    static let maxSize: UInt64 = 5 << 30

    static func run(_ text: String) {
        let lines = text.split(separator: "\n", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        func header(_ index: Int) -> String? { index < lines.count && !lines[index].isEmpty ? lines[index] : nil }
        for line in lines { checkInteger(line) }

        let length = VaultParserFuzzEntryPoints.tusCreationLength(
            uploadLength: header(0), deferLength: header(1), maxSize: maxSize)
        if let length {
            precondition(length > 0 && length <= maxSize, "tus creation accepted Upload-Length \(length)")
            precondition(header(1) == nil, "tus creation accepted both Upload-Length and Upload-Defer-Length")
        }
        // The stored offset may be anything, past the length too: the check must refuse, never trap.
        let stored = header(4).flatMap { UInt64($0) } ?? 0
        let total = length ?? UInt64(lines.count) * 1000
        let (accepted, declared) = VaultParserFuzzEntryPoints.tusPatch(
            uploadOffset: header(2), contentLength: header(3), offset: stored, length: total)
        if accepted {
            precondition(
                VaultParserFuzzEntryPoints.tusInteger(header(2) ?? "") == stored, "a PATCH at another offset was accepted")
            precondition(stored <= total, "a PATCH past Upload-Length was accepted")
            if let declared { precondition(declared <= total - stored, "a PATCH body longer than what is left was accepted") }
        }
    }

    /// tus integers are decimal digits only, and read back as the number they spell.
    static func checkInteger(_ text: String) {
        guard let value = VaultParserFuzzEntryPoints.tusInteger(text) else { return }
        precondition(text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }, "tus integer \(text) has a non-digit")
        let trimmed = text.drop { $0 == "0" }
        precondition(String(value) == (trimmed.isEmpty ? "0" : String(trimmed)), "tus integer \(text) read as \(value)")
    }
}
