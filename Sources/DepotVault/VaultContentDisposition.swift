import DepotSigV4

/// The `Content-Disposition` of a recording download, per RFC 6266: the name always quoted
/// (an unquoted `a"; filename="evil.exe` would add a parameter of its own), with an ASCII
/// fallback for old clients and the exact UTF-8 name in `filename*` (RFC 8187), which clients
/// that know it prefer.
enum VaultContentDisposition {
    static func attachment(filename: String) -> String {
        "attachment; filename=\"\(asciiFallback(filename))\"; filename*=UTF-8''\(SigV4Encoding.encode(filename))"
    }

    /// Printable ASCII kept, `"` and `\` escaped as quoted-string requires, everything else
    /// (controls, which could end the header line, and non-ASCII) replaced by `_`.
    static func asciiFallback(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            switch scalar.value {
            case 0x22, 0x5C: out += "\\" + String(scalar)
            case 0x20...0x7E: out.unicodeScalars.append(scalar)
            default: out += "_"
            }
        }
        return out
    }
}
