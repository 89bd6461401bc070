// swift-tools-version:6.2
// libFuzzer targets for the parsers that face the network, in their own package so that the main
// build, `make test` and CI never compile them. Run with `make fuzz` (see Fuzz/run-fuzz.sh).
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, which is whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "DepotFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "../")],
    targets: [
        // One binary; FUZZ_TARGET picks the parser, so one (slow, sanitized) build serves every target.
        .executableTarget(
            name: "depot-fuzz",
            dependencies: [
                .product(name: "DepotEngine", package: root), .product(name: "DepotConfig", package: root),
                .product(name: "DepotFrontDoorParsers", package: root),
            ],
            path: "Sources/DepotFuzz"
        )
    ]
)
