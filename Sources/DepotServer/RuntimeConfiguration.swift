import DepotConfig
import DepotEngine
import DepotS3
import DepotTiering
import Logging
import Synchronization

/// The configuration in effect: the file's (the base) with the tiers and policies made through
/// the admin API laid over it. It is replaced as a whole, so a reader never sees half of one
/// configuration and half of another, and every change (a reload, an admin API call) goes
/// through `rebuild`, which puts it into effect everywhere at once.
public final class RuntimeConfiguration: Sendable {
    struct State {
        var base: DepotConfiguration
        var current: DepotConfiguration
        var origins: [String: SettingOrigin]
        var reloads = 0
        /// What S3 object requests read of `current` (storage classes, lifecycle rules by bucket).
        var s3View: S3ConfigurationView
    }

    private let state: Mutex<State>
    /// One change at a time: two admin calls must not both build on the same old state.
    private let changes = AsyncLock()
    let engine: Engine
    let logger: Logger
    private let effects: Mutex<[@Sendable (DepotConfiguration) async throws -> Void]> = Mutex([])

    /// Builds the configuration in effect at start.
    init(base: DepotConfiguration, engine: Engine, logger: Logger) throws {
        self.engine = engine
        self.logger = logger
        let (current, origins, problems) = try Self.withBucketNotifications(
            try Self.withLifecyclePolicies(base.applying(try Self.overlay(of: engine)), engine), engine)
        for problem in problems { logger.warning("\(problem)") }
        state = Mutex(State(base: base, current: current, origins: origins, s3View: S3ConfigurationView(configuration: current)))
    }

    public var current: DepotConfiguration { state.withLock { $0.current } }
    var s3View: S3ConfigurationView { state.withLock { $0.s3View } }
    var base: DepotConfiguration { state.withLock { $0.base } }
    func origin(_ item: String) -> SettingOrigin? { state.withLock { $0.origins[item] } }
    /// How many reloads took effect since start.
    public var reloads: Int { state.withLock { $0.reloads } }

    /// Registers what must follow a change (the tiering service, accounts, buckets…).
    func onChange(_ effect: @escaping @Sendable (DepotConfiguration) async throws -> Void) {
        effects.withLock { $0.append(effect) }
    }

    static func overlay(of engine: Engine) throws -> AdminOverlay {
        var overlay = AdminOverlay()
        for (name, document) in try engine.storedSettings(kind: "tier") {
            overlay.tiers[name] = String(decoding: document, as: UTF8.self)
        }
        for (name, document) in try engine.storedSettings(kind: "policy") {
            overlay.policies[name] = String(decoding: document, as: UTF8.self)
        }
        for (name, document) in try engine.storedSettings(kind: "sink") {
            overlay.sinks[name] = String(decoding: document, as: UTF8.self)
        }
        return overlay
    }

    /// Adds the policies of the buckets' S3 lifecycle rules (origin `s3-lifecycle`) and replication
    /// rules (origin `s3-replication`), read from the stored bucket documents, so one retention
    /// pass and one tiering service carry out both kinds.
    static func withLifecyclePolicies(
        _ applied: (configuration: DepotConfiguration, origins: [String: SettingOrigin], problems: [String]),
        _ engine: Engine
    ) throws -> (configuration: DepotConfiguration, origins: [String: SettingOrigin], problems: [String]) {
        var (configuration, origins, problems) = applied
        let lifecycle = try LifecyclePolicies.all(engine: engine, storageClasses: StorageClasses(tiers: configuration.tiers))
        for policy in lifecycle.policies {
            configuration.policies.append(policy)
            origins["policy:" + policy.name] = .lifecycle
        }
        // Replication rules the same way (origin `s3-replication`), to the tiers in effect.
        let replication = try ReplicationPolicies.all(engine: engine, tiers: configuration.tiers)
        for policy in replication.policies {
            configuration.policies.append(policy)
            origins["policy:" + policy.name] = .replication
        }
        return (configuration, origins, problems + lifecycle.problems + replication.problems)
    }

    /// Makes `base` (a freshly read file, or the current one) with the stored overlay the
    /// configuration in effect. Settings that only take effect at start keep their running
    /// values; their names are returned.
    @discardableResult
    func rebuild(base newBase: DepotConfiguration? = nil, isReload: Bool = false) async throws -> [String] {
        try await changes.withLock { try await rebuildHoldingLock(base: newBase, isReload: isReload) }
    }

    private func rebuildHoldingLock(base newBase: DepotConfiguration?, isReload: Bool) async throws -> [String] {
        let old = state.withLock { $0 }
        let fresh = newBase ?? old.base
        let restartOnly = fresh.restartOnlyChanges(from: old.base)
        let base = fresh.keepingRestartOnlySettings(of: old.base)
        let (current, origins, problems) = try Self.withBucketNotifications(
            try Self.withLifecyclePolicies(base.applying(try Self.overlay(of: engine)), engine), engine)
        for problem in problems { logger.warning("\(problem)") }
        state.withLock {
            $0.base = base
            $0.current = current
            $0.origins = origins
            $0.s3View = S3ConfigurationView(configuration: current)
            if isReload { $0.reloads += 1 }
        }
        for effect in effects.withLock({ $0 }) { try await effect(current) }
        return restartOnly
    }

    /// Stores an admin API change, then rebuilds; `validate` sees the would-be configuration
    /// first and may refuse it, in which case nothing is stored.
    func change(
        kind: String, name: String, document: [UInt8]?,
        validate: @Sendable (DepotConfiguration) throws -> Void = { _ in }
    ) async throws {
        try await changes.withLock {
            let candidate: DepotConfiguration = try {
                var overlay = try Self.overlay(of: engine)
                let text = document.map { String(decoding: $0, as: UTF8.self) }
                switch kind {
                case "tier": overlay.tiers[name] = text
                case "sink": overlay.sinks[name] = text
                default: overlay.policies[name] = text
                }
                return base.applying(overlay).configuration
            }()
            try validate(candidate)
            if let document {
                try await engine.storeSetting(kind: kind, name: name, document: document)
            } else {
                try await engine.removeSetting(kind: kind, name: name)
            }
            _ = try await rebuildHoldingLock(base: nil, isReload: false)
        }
    }
}

/// A lock for async code: waiters queue instead of blocking a thread.
final class AsyncLock: Sendable {
    private let state = Mutex<(locked: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if !s.locked {
                    s.locked = true
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.locked = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
