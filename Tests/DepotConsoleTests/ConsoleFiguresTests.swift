import DepotEngine
import Testing

@testable import DepotConsole

/// The ingest ring stays bounded and answers only for the minutes it holds; the time filters
/// parse what a datetime-local field sends and refuse the rest, naming the field.
struct IngestHistoryTests {
    @Test func minutesAreSummedAndAStaleSlotReadsAsEmpty() {
        let history = IngestHistory()
        let minute: Int64 = 60_000
        let start: Int64 = 1_000 * minute
        history.record(bytes: 10, at: start)
        history.record(bytes: 5, at: start + 30_000)  // the same minute
        history.record(bytes: 7, at: start + 2 * minute)
        let hour = history.samples(minutes: 60, endingAt: start + 2 * minute)
        #expect(hour.count == 60)
        #expect(hour.suffix(3).map(\.bytes) == [15, 0, 7] && hour.suffix(3).map(\.objects) == [2, 0, 1])
        // A day later the same slots hold other minutes: the old figures are not shown as new.
        let dayLater = start + Int64(IngestHistory.slots) * minute
        history.record(bytes: 1, at: dayLater)
        let now = history.samples(minutes: IngestHistory.slots, endingAt: dayLater)
        #expect(now.count == IngestHistory.slots)
        #expect(now.reduce(0) { $0 + $1.bytes } == 1 + 7)  // 15 fell out of the window, 7 is still inside it
        #expect(history.samples(minutes: 1_000_000, endingAt: dayLater).count == IngestHistory.slots)
    }
}

struct TimeWindowTests {
    @Test func fromAndToNarrowTheDayAndBadValuesNameTheirField() throws {
        let day = try #require(ConsoleService.dayRange("2025-12-05"))
        let both = try ConsoleService.timeWindow(day: "2025-12-05", from: "2025-12-05T14:00", to: "").get()
        #expect(both == (day.lowerBound + 14 * 3_600_000)..<day.upperBound)
        let across = try ConsoleService.timeWindow(day: "", from: "2025-12-05T23:30", to: "2025-12-06T00:30:15").get()
        #expect(across == (day.lowerBound + 23 * 3_600_000 + 1_800_000)..<(day.upperBound + 1_815_000))
        #expect(try ConsoleService.timeWindow(day: "", from: "", to: "").get() == nil)
        for (from, to, heading) in [
            ("2025-12-05T24:00", "", "Bad from"), ("", "2025-12-05 10:00", "Bad to"), ("2025-12-05T10", "", "Bad from"),
            ("2025-12-06T00:00", "2025-12-05T00:00", "Bad time range"),
        ] {
            guard case .failure(let refusal) = ConsoleService.timeWindow(day: "", from: from, to: to) else {
                Issue.record("\(from)…\(to) accepted")
                continue
            }
            #expect(refusal.heading == heading)
        }
    }
}
