import DepotS3
import DepotSigV4

#if canImport(Glibc)
    import Glibc
#endif

/// The parser under test, chosen once from the FUZZ_TARGET environment variable: one of
/// FuzzTarget's, or a bucket document's (DocumentTargets).
private let selectedTarget: @Sendable ([UInt8]) -> Void = {
    let name = getenv("FUZZ_TARGET").map { String(cString: $0) } ?? ""
    if let target = FuzzTarget(rawValue: name) { return { target.run($0) } }
    if let document = S3DocumentFuzzEntryPoints.Document(rawValue: name) {
        return { DocumentTargets.run(document, $0) }
    }
    let names = FuzzTarget.allCases.map(\.rawValue) + S3DocumentFuzzEntryPoints.Document.allCases.map(\.rawValue)
    print("depot-fuzz: set FUZZ_TARGET to one of: \(names.joined(separator: ", "))")
    exit(2)
}()

/// libFuzzer calls this once per input. A crash, trap or sanitizer report is the finding;
/// a thrown parse error is the expected answer to bad input and is ignored.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    selectedTarget(Array(bytes))
    return 0
}

/// libFuzzer's driver, entered explicitly: SwiftPM links an executable target's entry point as
/// `<module>_main` (aliased to `main`), which would otherwise shadow libFuzzer's own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("depot_fuzz_main")
public func depotFuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in fuzz(data, size) }
}
