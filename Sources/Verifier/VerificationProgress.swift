import Foundation

/// A live view of one running verification, for progress lines while it runs.
///
/// ``Verifier/verify(network:specification:options:)`` updates it from its own thread at each
/// stage and from the search workers at every node and conflict; any thread may read
/// ``snapshot()`` meanwhile (the command line prints one every few seconds). It only reports:
/// nothing the verifier decides reads it, so a result never depends on who watches.
public final class VerificationProgress: @unchecked Sendable {
    /// What the verifier is doing.
    public enum Stage: String, Sendable, Equatable {
        /// Reading the network and the property (`suite`).
        case loading
        /// Random samples and gradient attacks, before any bound is computed.
        case falsifying
        /// `--compress`: classifying the neurons over the property's input region.
        case compressing
        /// Bounds at the root of each case × conjunction.
        case boundingRoots = "bounding the roots"
        /// LP tightening of an open problem's unstable neurons between its first and second search.
        case tightening
        /// The DPLL(T) or input-splitting search of one open problem.
        case searching
        /// A longer attack once a search ran out of its share (rare counterexamples).
        case attacking
        /// The verdict is known.
        case finished
    }

    /// The state at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// The current stage.
        public var stage: Stage = .falsifying
        /// Case × conjunction pairs of the property: each must be refuted for `unsat`.
        public var conjunctions = 0
        /// Of those, the ones refuted so far (at the root or by a finished search).
        public var refuted = 0
        /// While searching: the open problem searched now (1-based, in this pass's queue).
        public var problem = 0
        /// While searching: the open problems queued in this pass.
        public var problems = 0
        /// While searching: whether this is the second pass, over the problems that ran out of
        /// their fair share in the first.
        public var secondPass = false
        /// Search nodes so far, over every worker (root bounds and input sub-boxes included).
        public var nodes = 0
        /// Conflicts so far, over every worker.
        public var conflicts = 0
    }

    private let lock = NSLock()
    private var state = Snapshot()

    /// A fresh view, in the falsifying stage with nothing counted.
    public init() {}

    /// The state now; safe from any thread.
    public func snapshot() -> Snapshot {
        lock.lock()
        defer { lock.unlock() }
        return state
    }

    func update(_ body: (inout Snapshot) -> Void) {
        lock.lock()
        body(&state)
        lock.unlock()
    }

    /// Counts one search node (a worker's theory check or input sub-box).
    func countNode() { update { $0.nodes += 1 } }

    /// Counts one conflict.
    func countConflict() { update { $0.conflicts += 1 } }
}

extension VerificationProgress.Snapshot {
    /// One line for a person watching: the stage, how many conjunctions are left and the work done.
    public var line: String {
        var parts = [stage.rawValue]
        if problems > 0, stage == .searching || stage == .tightening {
            parts[0] += " problem \(problem) of \(problems)" + (secondPass ? " (second pass)" : "")
        }
        if conjunctions > 0, ![.loading, .falsifying, .compressing].contains(stage) {
            parts.append("\(refuted) of \(conjunctions) conjunctions refuted")
        }
        if nodes > 0 { parts.append("\(Self.grouped(nodes)) nodes, \(Self.grouped(conflicts)) conflicts") }
        return parts.joined(separator: " · ")
    }

    private static func grouped(_ n: Int) -> String {
        var digits = String(n)
        var i = digits.count - 3
        while i > 0 {
            digits.insert(",", at: digits.index(digits.startIndex, offsetBy: i))
            i -= 3
        }
        return digits
    }
}
