import Testing

@testable import DepotConsole

/// Cluster mode's console sessions (SessionStore with a shared key): a session one node signs in
/// is taken in by another node given the same key, with the same CSRF token; an altered id,
/// another cluster's key, or a session past its lifetime is no session.
struct SharedSessionTests {
    let key = [UInt8](repeating: 7, count: 32)

    func node(_ wall: ManualClock, key: [UInt8]? = nil, lifetime: Int64 = 1_000) -> SessionStore {
        SessionStore(
            idleSeconds: 60, lifetimeSeconds: lifetime, clock: ManualClock().read, sharedKey: key ?? self.key,
            wallClock: wall.read)
    }

    @Test func aSessionSignedInOnOneNodeOpensOnAnotherWithTheSameCSRFToken() throws {
        let wall = ManualClock()
        let a = node(wall)
        let b = node(wall)
        let session = a.create(accessKey: "CAM-1")
        let taken = try #require(b.session(session.id))
        #expect(taken.accessKey == "CAM-1" && taken.csrfToken == session.csrfToken && taken.csrfToken != session.id)
        #expect(b.count == 1 && b.session(session.id)?.accessKey == "CAM-1")
        #expect(a.create(accessKey: "CAM-1").id != session.id)
    }

    @Test func alteredIdsAndAnotherClustersKeyAreRefused() {
        let wall = ManualClock()
        let session = node(wall).create(accessKey: "CAM-1")
        let b = node(wall)
        var parts = session.id.split(separator: ".").map(String.init)
        parts[2] = "524f4f54"  // another account, "ROOT"
        #expect(b.session(parts.joined(separator: ".")) == nil)
        parts = session.id.split(separator: ".").map(String.init)
        parts[1] = String(Int64(parts[1])! + 10_000)  // a later start
        #expect(b.session(parts.joined(separator: ".")) == nil)
        #expect(b.session(session.id + "0") == nil && b.session("") == nil && b.session("a.b.c.d") == nil)
        #expect(node(wall, key: [UInt8](repeating: 8, count: 32)).session(session.id) == nil)
        #expect(SessionStore().session(session.id) == nil)  // embedded mode knows only its own
        #expect(b.count == 0)
    }

    @Test func theLifetimeHoldsOnEveryNode() {
        let wall = ManualClock()
        let session = node(wall, lifetime: 200).create(accessKey: "CAM-1")
        wall.advance(150)
        let b = node(wall, lifetime: 200)
        #expect(b.session(session.id) != nil)
        wall.advance(100)
        #expect(node(wall, lifetime: 200).session(session.id) == nil)
    }

    @Test func aSessionEndedOnANodeIsNotTakenInThereAgain() throws {
        let wall = ManualClock()
        let monotonic = ManualClock()
        let a = node(wall)
        let b = SessionStore(idleSeconds: 60, lifetimeSeconds: 1_000, clock: monotonic.read, sharedKey: key, wallClock: wall.read)
        let signedOut = a.create(accessKey: "CAM-1")
        let idle = a.create(accessKey: "CAM-2")
        #expect(b.session(signedOut.id) != nil && b.session(idle.id) != nil)
        b.remove(signedOut.id)
        #expect(b.session(signedOut.id) == nil)
        monotonic.advance(61)
        wall.advance(61)
        #expect(b.session(idle.id) == nil)
        #expect(b.session(idle.id) == nil)  // idle here: its valid signature does not bring it back
        #expect(a.session(signedOut.id) != nil)  // another node still has it (README says so)
    }
}
