// swift-tools-version:6.2
// Depot: a storage gateway for video-surveillance recordings.
// One module per part of the design (see README "Architecture"); nothing lower imports anything higher.
import PackageDescription

let package = Package(
    name: "depot",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "depot", targets: ["depot"]),
        // The engine and its primitives, for the Benchmarks/ package and for embedding.
        .library(name: "DepotEngine", targets: ["DepotEngine", "DepotStorage", "DepotHashing", "DepotSigV4"]),
        // The configuration parsers (YAML file, admin API JSON documents), for the Fuzz/ package.
        .library(name: "DepotConfig", targets: ["DepotConfig"]),
        // The front doors' parsers (aws-chunked, XML, Range, tus metadata), for the Fuzz/ package.
        .library(name: "DepotFrontDoorParsers", targets: ["DepotS3", "DepotObjectBody", "DepotVault"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The web console's server-rendered pages (Sources/DepotConsole).
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Cluster mode's index in PostgreSQL (Sources/DepotCluster).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // System libraries: LMDB for the index, OpenSSL libcrypto for every hash, HMAC and signature.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // CRC32, CRC32C (SSE4.2 when present) and CRC64NVME: not in OpenSSL, so written here in C.
        .target(name: "CDepotChecksums"),
        // Extended attributes (filesystem tier metadata) and glibc heap trimming, missing from Glibc's module map.
        .target(name: "CDepotSystem"),
        // Event brokers: librdkafka for Kafka, rabbitmq-c for AMQP 0-9-1 (RabbitMQ).
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),

        // 5. Storage primitives.
        .target(name: "DepotHashing", dependencies: ["COpenSSL", "CDepotChecksums"]),
        .target(
            name: "DepotStorage",
            dependencies: ["CLMDB", "CDepotChecksums", "DepotHashing", .product(name: "Logging", package: "swift-log")]
        ),
        // 2. Engine: ingest, read, delete, list, multipart; knows nothing of HTTP.
        .target(
            name: "DepotEngine",
            dependencies: [
                "DepotStorage", "DepotHashing", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The one SigV4 implementation: S3 front door, S3 tier client, SQS sink.
        .target(name: "DepotSigV4", dependencies: ["DepotHashing"]),
        // The one signed outbound HTTP client (URL, SigV4 header signing, timeout, bounded reply):
        // the S3 tier client, the SQS sink and the `depot` admin commands; its bounded reply
        // reading (HTTPClient.fetch) also serves the GCS, Azure and webhook clients.
        .target(
            name: "DepotSignedHTTP",
            dependencies: [
                "DepotSigV4", "DepotHashing",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "DepotConfig",
            dependencies: ["Yams", "DepotStorage", "DepotEngine", "DepotHashing"]
        ),
        // 1. Front doors, and what they share (DepotObjectBody: the object response body, the Range
        //    parser, the access log's RequestOutcome).
        .target(
            name: "DepotObjectBody",
            dependencies: [
                "DepotEngine",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "DepotS3",
            dependencies: [
                "DepotEngine", "DepotStorage", "DepotSigV4", "DepotConfig", "DepotObjectBody",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "DepotVault",
            dependencies: [
                "DepotEngine", "DepotStorage", "DepotConfig", "DepotHashing", "DepotObjectBody", "DepotSigV4",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // 3. Tiering: tier clients, the task workers, policies.
        .target(
            name: "DepotTiering",
            dependencies: [
                "DepotEngine", "DepotConfig", "DepotSigV4", "DepotSignedHTTP", "DepotHashing", "CDepotSystem",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // 4. Events: the outbox's dispatcher, payload formats, and the sinks.
        .target(
            name: "DepotEvents",
            dependencies: [
                "DepotEngine", "DepotConfig", "DepotSigV4", "DepotSignedHTTP", "DepotHashing", "DepotEventBrokers",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // 4. Events: the broker clients (Kafka producer, AMQP publisher) the event sinks publish through.
        .target(
            name: "DepotEventBrokers",
            dependencies: ["CRdKafka", "CRabbitMQ", .product(name: "Logging", package: "swift-log")],
            exclude: ["README-brokers.md"]
        ),
        // 1. The web console at /console/: sign-in, recordings (README "Console").
        .target(
            name: "DepotConsole",
            dependencies: [
                "DepotS3", "DepotEngine", "DepotConfig", "DepotSigV4", "DepotHashing", "DepotObjectBody",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Cluster mode's shared chunk store: records in pack objects on an S3-compatible store,
        // read through a local block cache (README "Chunks in pack objects").
        .target(
            name: "DepotPackStore",
            dependencies: [
                "DepotStorage", "DepotHashing", "DepotSigV4", "DepotSignedHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Cluster mode: the PostgreSQL index's schema and migrations, the node registry and its
        // heartbeat (README "Cluster mode"). Above the engine (DepotConfig already imports it), so
        // the server wires a cluster index into the engine, never the engine into the cluster.
        .target(
            name: "DepotCluster",
            dependencies: [
                "DepotStorage", "DepotConfig", "DepotEngine",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "DepotServer",
            dependencies: [
                "DepotConsole", "DepotS3", "DepotVault", "DepotTiering", "DepotEvents", "DepotCluster", "DepotPackStore", "DepotEngine", "DepotConfig", "CDepotSystem", "Yams",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "depot",
            dependencies: [
                "DepotServer", "DepotCluster", "DepotEngine", "DepotConfig", "DepotSigV4", "DepotSignedHTTP", "Yams",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "DepotHashingTests", dependencies: ["DepotHashing", "TestRandomness"]),
        // DepotCluster: IndexStoreTests run the same checks against the PostgreSQL index too.
        .testTarget(name: "DepotStorageTests", dependencies: ["DepotStorage", "DepotCluster", "DepotConfig", "TestRandomness"]),
        // DepotCluster: PostgresIndexEngineTests run the engine over the PostgreSQL index.
        .testTarget(name: "DepotEngineTests", dependencies: ["DepotEngine", "DepotCluster", "DepotConfig", "TestRandomness"]),
        // The S3 API reference's worked examples, shared by the test targets that check against them.
        .target(name: "S3ReferenceExamples", path: "Tests/S3ReferenceExamples"),
        .target(name: "TestRandomness", path: "Tests/TestRandomness"),
        .testTarget(name: "DepotSigV4Tests", dependencies: ["DepotSigV4", "S3ReferenceExamples", "TestRandomness"]),
        .testTarget(
            name: "DepotSignedHTTPTests",
            dependencies: [
                "DepotSignedHTTP", "DepotSigV4", "DepotHashing",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "DepotConfigTests", dependencies: ["DepotConfig"]),
        .testTarget(name: "DepotEventsTests", dependencies: ["DepotEvents", "DepotEngine", "DepotConfig"]),
        .testTarget(name: "DepotVaultTests", dependencies: ["DepotVault"]),
        .testTarget(name: "DepotConsoleTests", dependencies: ["DepotConsole"]),
        .testTarget(name: "DepotS3Tests", dependencies: ["DepotS3", "DepotConfig", "S3ReferenceExamples"]),
        .testTarget(name: "DepotServerTests", dependencies: ["DepotServer", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "DepotPackStoreTests",
            dependencies: ["DepotPackStore", "DepotStorage", "DepotEngine", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "DepotEventBrokersTests", dependencies: ["DepotEventBrokers", "CRdKafka", "CRabbitMQ"]),
    ],
    swiftLanguageModes: [.v6]
)
