import HTTPTypes
import Synchronization
import Testing

@testable import DepotConsole

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    let seconds = Atomic<Int64>(1_000)
    func advance(_ by: Int64) { seconds.add(by, ordering: .relaxed) }
    var read: @Sendable () -> Int64 { { self.seconds.load(ordering: .relaxed) } }
}

struct SessionStoreTests {
    @Test func everySignInGetsAFreshUnguessableId() {
        let store = SessionStore()
        let first = store.create(accessKey: "A")
        let second = store.create(accessKey: "A")
        #expect(first.id != second.id && first.csrfToken != second.csrfToken && first.id != first.csrfToken)
        #expect(first.id.count == 64 && first.id.allSatisfy(\.isHexDigit))
        #expect(store.session(first.id)?.accessKey == "A")
        #expect(store.session(String(repeating: "0", count: 64)) == nil)
    }

    @Test func anUnusedSessionEndsAfterTheIdleTimeButAUsedOneLives() {
        let clock = ManualClock()
        let store = SessionStore(idleSeconds: 60, lifetimeSeconds: 1_000, clock: clock.read)
        let used = store.create(accessKey: "A")
        let idle = store.create(accessKey: "B")
        for _ in 0..<3 {
            clock.advance(40)
            #expect(store.session(used.id) != nil)
        }
        #expect(store.session(idle.id) == nil)
        #expect(store.count == 1)
    }

    @Test func noSessionOutlivesItsLifetimeHoweverOftenUsed() {
        let clock = ManualClock()
        let store = SessionStore(idleSeconds: 60, lifetimeSeconds: 200, clock: clock.read)
        let session = store.create(accessKey: "A")
        for _ in 0..<5 {
            clock.advance(50)
            _ = store.session(session.id)
        }
        #expect(store.session(session.id) == nil)
    }

    @Test func theStoreHoldsAtMostItsCapacityDroppingTheLeastRecentlyUsed() {
        let clock = ManualClock()
        let store = SessionStore(capacity: 3, clock: clock.read)
        let a = store.create(accessKey: "A")
        clock.advance(1)
        let b = store.create(accessKey: "B")
        clock.advance(1)
        let c = store.create(accessKey: "C")
        clock.advance(1)
        _ = store.session(a.id)  // A is used again: B is now the least recently used
        clock.advance(1)
        let d = store.create(accessKey: "D")
        #expect(store.count == 3)
        #expect(store.session(b.id) == nil)
        #expect(store.session(a.id) != nil && store.session(c.id) != nil && store.session(d.id) != nil)
        store.remove(a.id)
        #expect(store.session(a.id) == nil)
    }
}

struct SignInThrottleTests {
    @Test func anAddressIsRefusedAfterItsFailuresUntilTheWindowPasses() {
        let clock = ManualClock()
        let throttle = SignInThrottle(limit: 3, windowSeconds: 100, clock: clock.read)
        for _ in 0..<3 {
            #expect(throttle.mayTry("10.0.0.1"))
            throttle.recordFailure("10.0.0.1")
        }
        #expect(!throttle.mayTry("10.0.0.1"))
        #expect(throttle.mayTry("10.0.0.2"))
        clock.advance(101)
        #expect(throttle.mayTry("10.0.0.1"))
    }

    @Test func manyAddressesStayBoundedAndTheLatestGuesserIsStillRefused() {
        let clock = ManualClock()
        let throttle = SignInThrottle(limit: 2, windowSeconds: 1_000, capacity: 10, clock: clock.read)
        for i in 0..<25 {
            clock.advance(1)
            throttle.recordFailure("other-\(i)")
            #expect(throttle.addressCount <= 10)
        }
        throttle.recordFailure("guesser")
        throttle.recordFailure("guesser")
        #expect(!throttle.mayTry("guesser"))
        #expect(throttle.addressCount <= 10)
    }
}

struct BrowserVisitTests {
    func fields(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return fields
    }

    @Test func onlyAnUnsignedBrowserVisitOfTheRootGoesToTheConsole() {
        let html = ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        #expect(BrowserVisit.wantsConsole(method: .get, target: "/", headers: fields([html])))
        // S3 clients: signed (SigV4 or SigV2), presigned (a query), or not asking for HTML.
        #expect(
            !BrowserVisit.wantsConsole(
                method: .get, target: "/", headers: fields([html, ("Authorization", "AWS4-HMAC-SHA256 x")])))
        #expect(!BrowserVisit.wantsConsole(method: .get, target: "/", headers: fields([html, ("Authorization", "AWS k:s")])))
        #expect(
            !BrowserVisit.wantsConsole(method: .get, target: "/", headers: fields([html, ("x-amz-date", "20261205T000000Z")])))
        #expect(!BrowserVisit.wantsConsole(method: .get, target: "/?X-Amz-Signature=x", headers: fields([html])))
        #expect(!BrowserVisit.wantsConsole(method: .get, target: "/", headers: fields([("Accept", "*/*")])))
        #expect(!BrowserVisit.wantsConsole(method: .get, target: "/", headers: fields([])))
        #expect(!BrowserVisit.wantsConsole(method: .head, target: "/", headers: fields([html])))
        #expect(!BrowserVisit.wantsConsole(method: .get, target: "/bucket", headers: fields([html])))
    }
}

struct ConsoleRenderingTests {
    @Test func formsAndCookiesAreDecoded() {
        #expect(HTTPForm.fields("a=1+2&b=%3Cx%3E&a=ignored&c") == ["a": "1 2", "b": "<x>", "c": ""])
        var headers = HTTPFields()
        headers[.cookie] = "depot_console=abc; other=x=y"
        #expect(HTTPForm.cookies(headers) == ["depot_console": "abc", "other": "x=y"])
    }

    @Test func keysAndMetadataWithMarkupRenderAsText() throws {
        let key = "cam1/\"><script>alert(1)</script>'.mp4"
        let html = try #require(
            Templates.library.render(
                [
                    "title": key, "bucket": "rec", "key": key, "playable": true, "playURL": "/rec/x?a=1&b=2",
                    "downloadURL": "/d", "metadata": [["name": "note", "value": "<img src=x onerror=alert(2)>"]],
                    "mayDelete": true, "csrf": "t",
                ] as [String: Any], withTemplate: "object"))
        #expect(!html.contains("<script>alert") && !html.contains("<img src=x"))
        #expect(html.contains("cam1/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#39;.mp4"))
        #expect(html.contains("src=\"/rec/x?a=1&amp;b=2\""))
    }

    @Test func daysAreUTCAndStrictlyWritten() {
        #expect(ConsoleService.dayRange("2025-12-05") == 1_764_892_800_000..<1_764_979_200_000)
        for bad in ["2025-12-5", "yesterday", "2025-13-01", "", "2025-12-05T00"] {
            #expect(ConsoleService.dayRange(bad) == nil, "\(bad)")
        }
    }
}
