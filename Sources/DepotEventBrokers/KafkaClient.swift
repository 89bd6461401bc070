import CRdKafka
import Logging
import Synchronization

/// librdkafka's handles and the bookkeeping of one batch of deliveries: the C side of `KafkaProducer`.
///
/// Thread use: every method runs on the producer's `BrokerThread` only (hence `@unchecked Sendable`).
/// librdkafka itself is thread-safe, but the batch bookkeeping is not; delivery reports and error
/// events are served by `rd_kafka_poll`, which only this thread calls, so they update it safely.
/// Only the log callback comes from librdkafka's own threads, and it touches nothing but the logger.
final class KafkaClient: @unchecked Sendable {
    private let settings: KafkaSettings
    private let properties: [(String, String)]
    private let callbacks: KafkaCallbacks
    private var handle: OpaquePointer?  // rd_kafka_t *
    private var topic: OpaquePointer?  // rd_kafka_topic_t *
    private var isShutDown = false

    init(settings: KafkaSettings, logger: Logger) throws(KafkaProducerError) {
        self.settings = settings
        self.properties = try settings.librdkafkaProperties()
        self.callbacks = KafkaCallbacks(logger: logger)
        // Opening now reports every invalid property before the first event is due.
        try open()
    }

    deinit { close(flushTimeout: nil) }

    /// Produces `messages` and waits until librdkafka reported the fate of every one of them, which it
    /// does at the latest after `settings.deliveryTimeout`.
    func send(_ messages: [(key: [UInt8], value: [UInt8])]) throws(KafkaProducerError) {
        guard !isShutDown else { throw .shutDown }
        if handle == nil { try open() }
        guard let handle, let topic else { throw .shutDown }

        let base = callbacks.begin(count: messages.count)
        for (index, message) in messages.enumerated() {
            let error = produce(message, sequence: base + UInt(index), handle: handle, topic: topic)
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { callbacks.resolve(sequence: base + UInt(index), error: error) }
        }
        awaitDeliveries(handle: handle)

        let failures = callbacks.outcomes.compactMap { $0 }.filter { $0 != RD_KAFKA_RESP_ERR_NO_ERROR }
        guard let first = failures.first else { return }
        var reason = String(cString: rd_kafka_err2str(first))
        if let fatal = fatalError(of: handle) {
            // A fatal error (e.g. the idempotent producer's sequence broke) makes this handle unusable:
            // the next send starts a new one.
            reason = "fatal: \(fatal)"
            close(flushTimeout: nil)
        }
        throw .deliveryFailed(
            failed: failures.count, of: messages.count, reason: reason, brokerError: callbacks.lastBrokerError)
    }

    /// Waits for queued messages up to `flushTimeout` (nil: not at all), then releases librdkafka.
    func close(flushTimeout: Duration?) {
        if let handle {
            if let flushTimeout { _ = rd_kafka_flush(handle, Int32(clamping: flushTimeout.milliseconds)) }
            if let topic { rd_kafka_topic_destroy(topic) }
            rd_kafka_destroy(handle)
        }
        handle = nil
        topic = nil
    }

    func shutdown(flushTimeout: Duration) {
        close(flushTimeout: flushTimeout)
        isShutDown = true
    }

    // MARK: - librdkafka calls

    private func open() throws(KafkaProducerError) {
        guard let configuration = rd_kafka_conf_new() else { throw .invalidSettings("librdkafka: out of memory") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in properties {
            guard rd_kafka_conf_set(configuration, name, value, &errorText, errorText.count) == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(configuration)
                throw .invalidSettings("\(name): \(String(nulTerminated: errorText))")
            }
        }
        rd_kafka_conf_set_opaque(configuration, Unmanaged.passUnretained(callbacks).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(configuration) { _, message, opaque in
            guard let message, let opaque else { return }
            let sequence = UInt(bitPattern: message.pointee._private)
            Unmanaged<KafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
                .resolve(sequence: sequence, error: message.pointee.err)
        }
        rd_kafka_conf_set_error_cb(configuration) { _, _, reason, opaque in
            guard let opaque, let reason else { return }
            Unmanaged<KafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue().lastBrokerError = String(cString: reason)
        }
        rd_kafka_conf_set_log_cb(configuration) { kafka, level, facility, text in
            guard let kafka, let opaque = rd_kafka_opaque(kafka), let text else { return }
            Unmanaged<KafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
                .log(level: level, facility: facility.map { String(cString: $0) } ?? "-", String(cString: text))
        }

        // On success rd_kafka_new owns the configuration; on failure it is still ours.
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, configuration, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(configuration)
            throw .invalidSettings(String(nulTerminated: errorText))
        }
        guard let topic = rd_kafka_topic_new(handle, settings.topic, nil) else {
            let reason = String(cString: rd_kafka_err2str(rd_kafka_last_error()))
            rd_kafka_destroy(handle)
            throw .invalidSettings("topic \(settings.topic): \(reason)")
        }
        self.handle = handle
        self.topic = topic
    }

    /// Hands one message to librdkafka (which copies it), waiting while its queue is full.
    private func produce(
        _ message: (key: [UInt8], value: [UInt8]), sequence: UInt, handle: OpaquePointer, topic: OpaquePointer
    ) -> rd_kafka_resp_err_t {
        while true {
            let status = message.value.withUnsafeBytes { value in
                message.key.withUnsafeBytes { key in
                    rd_kafka_produce(
                        topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                        UnsafeMutableRawPointer(mutating: value.baseAddress), value.count,
                        key.baseAddress, key.count, UnsafeMutableRawPointer(bitPattern: sequence))
                }
            }
            if status == 0 { return RD_KAFKA_RESP_ERR_NO_ERROR }
            let error = rd_kafka_last_error()
            guard error == RD_KAFKA_RESP_ERR__QUEUE_FULL else { return error }
            rd_kafka_poll(handle, 100)
        }
    }

    /// Serves delivery reports until every message of the batch has one. librdkafka reports each message
    /// by `message.timeout.ms` at the latest; the purge after a grace period only guards against a
    /// report that never comes, so this loop always ends.
    private func awaitDeliveries(handle: OpaquePointer) {
        let clock = ContinuousClock()
        let purgeAt = clock.now + settings.deliveryTimeout + .seconds(5)
        var giveUpAt: ContinuousClock.Instant?
        while callbacks.unresolved > 0 {
            rd_kafka_poll(handle, 100)
            if giveUpAt == nil, clock.now >= purgeAt {
                _ = rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
                giveUpAt = clock.now + .seconds(5)
            } else if let giveUpAt, clock.now >= giveUpAt {
                callbacks.resolveRemaining(error: RD_KAFKA_RESP_ERR__TIMED_OUT)
            }
        }
    }

    private func fatalError(of handle: OpaquePointer) -> String? {
        var text = [CChar](repeating: 0, count: 512)
        guard rd_kafka_fatal_error(handle, &text, text.count) != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return String(nulTerminated: text)
    }
}

/// What librdkafka's callbacks report, kept for the batch being sent. Each batch numbers its messages
/// from a new base, so a late report for an earlier batch cannot count for the current one.
final class KafkaCallbacks {
    private let logger: Logger
    /// When each log facility last wrote a line, and how many lines it has had held back since.
    private let logPace = Mutex<[String: (last: ContinuousClock.Instant, held: Int)]>([:])
    private var base: UInt = 1
    private(set) var outcomes: [rd_kafka_resp_err_t?] = []
    private(set) var unresolved = 0
    /// The last connection-level error librdkafka reported during the current batch.
    var lastBrokerError: String?

    init(logger: Logger) { self.logger = logger }

    /// Starts a batch of `count` messages; returns the sequence number of its first message.
    func begin(count: Int) -> UInt {
        base += UInt(outcomes.count)
        outcomes = Array(repeating: nil, count: count)
        unresolved = count
        lastBrokerError = nil
        return base
    }

    func resolve(sequence: UInt, error: rd_kafka_resp_err_t) {
        guard sequence >= base, sequence - base < UInt(outcomes.count) else { return }
        let index = Int(sequence - base)
        guard outcomes[index] == nil else { return }
        outcomes[index] = error
        unresolved -= 1
    }

    func resolveRemaining(error: rd_kafka_resp_err_t) {
        for index in outcomes.indices where outcomes[index] == nil { outcomes[index] = error }
        unresolved = 0
    }

    /// librdkafka logs with syslog levels (0 emergency … 7 debug). Called from librdkafka's threads.
    /// While a broker is down or refuses the credentials, librdkafka retries many times a second and
    /// logs each failure: one line per facility per 10 seconds is kept, with the count of those held back.
    func log(level: Int32, facility: String, _ text: String) {
        let now = ContinuousClock.now
        let held: Int? = logPace.withLock { pace in
            if let entry = pace[facility], now - entry.last < .seconds(10) {
                pace[facility] = (entry.last, entry.held + 1)
                return nil
            }
            let held = pace[facility]?.held ?? 0
            pace[facility] = (now, 0)
            return held
        }
        guard let held else { return }
        let message = held > 0 ? "\(facility): \(text) (\(held) similar line(s) held back)" : "\(facility): \(text)"
        switch level {
        case ...3: logger.error("librdkafka \(message)")
        case 4: logger.warning("librdkafka \(message)")
        case 5...6: logger.info("librdkafka \(message)")
        default: logger.debug("librdkafka \(message)")
        }
    }
}

extension String {
    /// The text in a C error buffer that a library filled in.
    fileprivate init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Duration {
    /// Whole milliseconds, for C APIs that take them.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
