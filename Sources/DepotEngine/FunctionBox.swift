/// A function kept behind a reference, for storing in a `Mutex`.
///
/// A function value stored directly as a `Mutex`'s generic state is re-wrapped in a
/// reabstraction thunk each time `withLock { $0 }` reads it (the inout access converts it there
/// and back), so a planner read on every commit grew a chain of thunks until calling it overflowed
/// the stack (a crash after some 16,000 uploads). A class reference is read as it is.
final class FunctionBox<Function: Sendable>: Sendable {
    let function: Function
    init(_ function: Function) { self.function = function }
}
