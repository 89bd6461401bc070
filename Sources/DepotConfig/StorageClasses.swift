import DepotEngine

/// S3 storage classes are Depot tiers (issue 18 #2): a tier may declare a class name
/// (`storageClass: GLACIER_IR`), as MinIO's `mc ilm tier add` names a tier. STANDARD is the local
/// store. This is the one place that decides which names are accepted, which tier a class sends
/// an object to, and which class an object reports.
///
/// - A PUT, copy, CreateMultipartUpload or POST form with `x-amz-storage-class: <declared>` stores
///   the object locally (the write is acknowledged once durable, as always), queues its copy to
///   that class's tier at once and evicts the local copy as soon as the tier confirmed it: the
///   object is "in that class" from its PUT on, as AWS stores it directly into the class. Its
///   reads stream from the tier after the eviction.
/// - A lifecycle Transition to a class is a policy that moves objects to that class's tier once
///   they are old enough (LifecyclePolicies.swift).
/// - An object reports the class it was put in; an object moved by a transition reports the class
///   of a tier holding its bytes; anything else is STANDARD (the header is left out, as S3 does).
public struct StorageClasses: Sendable, Equatable {
    /// The local store's class: every object that was not put in, or moved to, another class.
    public static let standard = "STANDARD"
    /// The class an object was put in (`x-amz-storage-class`), kept as internal system metadata.
    public static let requestedKey = ObjectRecord.internalMetadataPrefix + "storage-class"

    /// Declared class → tier name, and tier name → class.
    public let tierOfClass: [String: String]
    public let classOfTier: [String: String]

    public init(tiers: [TierSettings]) {
        var tierOfClass: [String: String] = [:]
        var classOfTier: [String: String] = [:]
        for tier in tiers {
            guard let name = tier.storageClass, tierOfClass[name] == nil else { continue }
            tierOfClass[name] = tier.name
            classOfTier[tier.name] = name
        }
        self.tierOfClass = tierOfClass
        self.classOfTier = classOfTier
    }

    /// Why a tier cannot declare this class name; nil when it can.
    public static func problem(withDeclared name: String) -> String? {
        guard name != standard else { return "STANDARD is the local store's class; a tier cannot declare it" }
        guard (1...64).contains(name.utf8.count),
            name.utf8.first.map({ $0 >= 65 && $0 <= 90 }) ?? false,
            name.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 })
        else {
            return
                "must be 1 to 64 upper-case letters, digits, '_' or '-', starting with a letter (e.g. GLACIER_IR), got \"\(name)\""
        }
        return nil
    }

    /// Whether `x-amz-storage-class` may name this class: STANDARD or a declared one.
    public func accepts(_ name: String) -> Bool { name == Self.standard || tierOfClass[name] != nil }

    /// The tier a version put in a declared class goes to (nil: STANDARD, or a class no tier
    /// declares any more, which keeps the object local).
    public func targetTier(of record: ObjectRecord) -> String? {
        record.requestedStorageClass.flatMap { tierOfClass[$0] }
    }

    /// The class an object reports in HEAD, GET and listings; nil for STANDARD.
    public func reportedClass(of record: ObjectRecord) -> String? {
        if record.localState == .evicted {
            // Moved by a transition (or after its PUT): the class of a tier that holds its bytes.
            if let requested = record.requestedStorageClass, let tier = tierOfClass[requested],
                record.replicas.contains(where: { $0.tier == tier && $0.state == .completed })
            {
                return requested
            }
            for replica in record.replicas where replica.state == .completed {
                if let name = classOfTier[replica.tier] { return name }
            }
        }
        return record.requestedStorageClass
    }

    /// The `<StorageClass>` of a listing entry: STANDARD when the object reports none.
    public func listedClass(of record: ObjectRecord) -> String { reportedClass(of: record) ?? Self.standard }
}

extension ObjectRecord {
    /// The declared class this version was put in; nil for STANDARD.
    public var requestedStorageClass: String? {
        systemMetadata.first { $0.0 == StorageClasses.requestedKey }?.1
    }
}

extension ObjectMetadata {
    /// The declared class a multipart upload was created with; nil for STANDARD.
    public var requestedStorageClass: String? {
        systemMetadata.first { $0.0 == StorageClasses.requestedKey }?.1
    }
}

extension PolicySettings {
    /// Whether the policy moves objects to its tiers (by age or by date).
    public var transitions: Bool { transitionAfter != nil || transitionAt != nil }

    /// When a version created at `created` is due to move to the policy's tiers: the earlier of
    /// its age limit (to the next midnight UTC for lifecycle rules, as S3 counts days) and the
    /// policy's date; nil when the policy moves nothing.
    public func transitionDue(created: Int64) -> Int64? {
        var byAge: Int64?
        if let after = transitionAfter {
            let time = created + Int64(after) * 1000
            let day: Int64 = 86_400_000
            byAge = !expireAtMidnightUTC || time % day == 0 ? time : (time / day + 1) * day
        }
        switch (byAge, transitionAt) {
        case (let age?, let date?): return min(age, date)
        case (let age?, nil): return age
        case (nil, let date?): return date
        case (nil, nil): return nil
        }
    }
}
