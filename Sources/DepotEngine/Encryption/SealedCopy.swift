import DepotHashing
import DepotStorage

/// A sealed copy: how an object Depot stores encrypted goes to a tier when its replicate policy
/// says `encryptedObjects: ciphertext` (DESIGN "Encrypted objects on tiers"). The tier receives
/// the chunk records' payloads exactly as they are in the segments (AES-256-GCM ciphertext and
/// tag, each sealed under a key derived from the domain's data key and the chunk's address), and
/// the key material needed to open them again with the master key, never the key itself:
///
///     magic (16 bytes)
///     payload of chunk 0 … payload of chunk n-1   (manifest order; each plaintext length + 16)
///     trailer: JSON, then its length (u32, little-endian), then the magic again
///
/// The trailer names the format, the algorithm, the key id, the domain's data key wrapped by that
/// master key (base64; absent for SSE-C, whose key only the client holds), the object's size and
/// ETag, and each chunk's address and plaintext length. Payload offsets follow from the manifest
/// alone, so a ranged read fetches only the chunks it needs; the leading magic tells a sealed copy
/// from a plaintext one (a policy may have changed since the copy was made).
public enum SealedCopy {
    public static let magic: [UInt8] = Array("\u{0}DEPOT-SEALED\u{0}v1".utf8)
    public static let format = "depot-sealed-copy/1"

    /// Where each chunk's payload sits in the copy.
    public static func payloadRanges(_ record: ObjectRecord) -> [Range<UInt64>] {
        var offset = UInt64(magic.count)
        return record.manifest.map { chunk in
            let end = offset + UInt64(chunk.length) + UInt64(AES256GCM.tagSize)
            defer { offset = end }
            return offset..<end
        }
    }

    /// The trailer of `record`'s sealed copy (`wrappedDataKey`: nil for SSE-C).
    public static func trailer(_ record: ObjectRecord, wrappedDataKey: [UInt8]?) -> [UInt8] {
        let encryption = record.encryption
        var json = "{\"format\":\(quoted(format))"
        json += ",\"algorithm\":\(quoted(encryption?.algorithm ?? ""))"
        json += ",\"keyId\":\(quoted(encryption?.keyId ?? ""))"
        if let wrappedDataKey { json += ",\"wrappedDataKey\":\(quoted(Base64.encode(wrappedDataKey)))" }
        json += ",\"size\":\(record.size),\"etag\":\(quoted(record.etag)),\"chunks\":["
        json += record.manifest.map { "{\"address\":\"\(Hex.encode($0.hash))\",\"length\":\($0.length)}" }
            .joined(separator: ",")
        json += "]}"
        let bytes = Array(json.utf8)
        let count = UInt32(bytes.count)
        return bytes + [UInt8(count & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 24)] + magic
    }

    /// The whole copy's length with a trailer of `trailerCount` bytes.
    public static func size(_ record: ObjectRecord, trailerCount: Int) -> UInt64 {
        (payloadRanges(record).last?.upperBound ?? UInt64(magic.count)) + UInt64(trailerCount)
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                out +=
                    "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension Engine {
    /// The wrapped data key of a master key id's domain, as the index keeps it (for a sealed
    /// copy's trailer); nil when nothing was encrypted with that key.
    public func wrappedDataKey(keyId: String) throws -> [UInt8]? {
        let table = meta
        return try indexStore.read { txn in try txn.get(table, Engine.domainKey(keyId)).map(Array.init) }
    }

    /// The domain that opens a sealed copy of `record` read back from a tier: its key id's, for
    /// SSE-S3/KMS. An SSE-C object's needs the client's key (CustomerKeyEncryption.Refusal).
    public func sealedCopyDomain(of record: ObjectRecord) throws -> EncryptionDomain? {
        guard let encryption = record.encryption else { return nil }
        if CustomerKeyEncryption.isCustomerKey(encryption) { throw CustomerKeyEncryption.Refusal.keyRequired }
        return try encryptionDomain(existing: encryption.keyId)
    }
}

extension ObjectReader {
    /// The stored payload (ciphertext + tag) of the manifest's chunk `index`, as a sealed copy
    /// carries it; for a reader opened with `openObject(…, sealed: true)` of a local object.
    public func sealedPayload(_ index: Int) throws -> [UInt8] {
        guard isLocal, locations.indices.contains(index) else { throw EngineError.invalidObjectState(key) }
        do { return try store.readPayload(locations[index]) } catch { throw EngineError.wrap(error) }
    }
}

extension EncryptionDomain {
    /// The plaintext of chunk `address`'s payload from a sealed copy, its tag checked (throws
    /// otherwise: a copy changed on the tier is an error, never garbage).
    public func openSealedPayload(_ payload: [UInt8], address: [UInt8]) throws -> [UInt8] {
        do { return try open(payload, address: address) } catch {
            throw EngineError.io(
                "a sealed copy's chunk \(Hex.encode(address).prefix(16))… fails its authentication tag (\(error))")
        }
    }
}
