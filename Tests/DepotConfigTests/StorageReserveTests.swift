import DepotStorage
import Testing

@testable import DepotConfig

struct StorageReserveTests {
    private func reserve(_ value: String?) throws -> SpaceReserve {
        let yaml = value.map { "storage: { reserve: \"\($0)\" }\n" } ?? "storage: {}\n"
        return try DepotConfiguration.parse(yaml: yaml).storage.reserve
    }

    @Test func unsetIsTheSmallerOfOnePercentAnd256MiB() throws {
        #expect(try reserve(nil) == .automatic)
        #expect(SpaceReserve.automatic.bytes(ofDevice: 1 << 30) == (1 << 30) / 100)
        #expect(SpaceReserve.automatic.bytes(ofDevice: 1 << 40) == 256 << 20)
    }

    @Test func sizesAndPercentagesAreAccepted() throws {
        #expect(try reserve("64MiB") == .bytes(64 << 20))
        #expect(try reserve("0") == .bytes(0))
        #expect(try reserve("2%") == .fraction(0.02))
        #expect(SpaceReserve.fraction(0.02).bytes(ofDevice: 1000) == 20)
    }

    @Test func nonsenseNamesTheField() throws {
        for bad in ["lots", "60%", "-1%", "%"] {
            let error = #expect(throws: ConfigError.self) { try reserve(bad) }
            #expect(error?.path == "storage.reserve", "for \(bad)")
        }
    }
}
