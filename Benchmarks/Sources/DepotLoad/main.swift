import Foundation

/// depot-load: drives a running Depot (or any S3 endpoint) and prints one JSON result.
///
///   depot-load --endpoint URL --access-key K --secret-key S --bucket B --op put --size 1MiB
///              --concurrency 8 [--count N] [--seconds S] [--server-pid PID] [--prefix P]
///              [--cpu-pids PID,PID...]  (report the CPU seconds of these processes and their descendants)
///              [--existing N]  (reads use N objects an earlier run wrote under --prefix)
///   depot-load discard-server --port P
///   depot-load ingest-ceiling [--megabytes 256]
///   depot-load md5-ceiling [--megabytes 64]   (ETag MD5: OpenSSL per thread against the multi-buffer service)
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: "--" + name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}

if arguments.first == "discard-server" {
    try DiscardServer.run(port: Int(option("port") ?? "0") ?? 0)
    exit(0)
}
if arguments.first == "md5-ceiling" {
    let ceiling = MD5Ceiling.measure(megabytes: Int(option("megabytes") ?? "64") ?? 64)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(ceiling), as: UTF8.self))
    exit(0)
}
if arguments.first == "ingest-ceiling" {
    let ceiling = IngestCeiling.measure(megabytes: Int(option("megabytes") ?? "256") ?? 256)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(ceiling), as: UTF8.self))
    exit(0)
}
guard let endpoint = option("endpoint"), let operationName = option("op"),
    let operation = Workload.Operation(rawValue: operationName), let size = parseSize(option("size") ?? "1MiB")
else {
    FileHandle.standardError.write(
        Data("usage: depot-load --endpoint URL --op put|get|range|head|delete|list|vault-post|tus --size 1MiB ...\n".utf8))
    exit(2)
}
let concurrency = Int(option("concurrency") ?? "1") ?? 1
let workload = Workload(
    operation: operation, size: size, concurrency: concurrency, count: Int(option("count") ?? "") ?? Int.max,
    duration: .seconds(Double(option("seconds") ?? "10") ?? 10), bucket: option("bucket") ?? "bench",
    prefix: option("prefix") ?? "load/\(operationName)-\(size)-\(concurrency)/",
    existing: option("existing").flatMap { Int($0) })
let client = LoadClient(
    endpoint: endpoint, accessKey: option("access-key") ?? "", secretKey: option("secret-key") ?? "", concurrency: concurrency)
let serverPID = option("server-pid").flatMap { Int32($0) }
let cpuRoots = option("cpu-pids").map { $0.split(separator: ",").compactMap { Int32($0) } } ?? serverPID.map { [$0] } ?? []
let result: RunResult
do {
    signal(SIGPIPE, SIG_IGN)  // a closed connection is an error the request reports, not the end of the process
    let runner = try Runner(client: client, workload: workload, serverPID: serverPID, cpuRoots: cpuRoots)
    result = try await runner.run()
} catch {
    FileHandle.standardError.write(Data("depot-load: \(error)\n".utf8))
    try? await client.http.shutdown()
    exit(1)
}
try await client.http.shutdown()
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys]
print(String(decoding: try encoder.encode(result), as: UTF8.self))
