import Foundation

/// Counters and per-phase timings of one verification run, for `--stats-json` and for tuning.
///
/// Every counter is summed over all cases, conjunctions and worker threads, so with several
/// threads the times are CPU seconds spent in each phase, not wall-clock time.
public struct SearchStatistics: Sendable, Codable, Equatable {
    /// Search nodes visited: ReLU-search nodes whose theory was checked, plus input sub-boxes.
    public var nodes = 0
    /// Branching decisions (ReLU phases chosen by ``decide``).
    public var decisions = 0
    /// Decisions per ReLU layer (index 0 is the first hidden layer): where the search branches.
    public var decisionsPerLayer: [Int] = []
    /// Phases implied by bounds or by learned clauses (not decided).
    public var propagations = 0
    /// Conflicts: nodes refuted by bounds, LP or clauses.
    public var conflicts = 0
    /// Clauses learned by conflict analysis (unit facts included).
    public var learnedClauses = 0
    /// Search restarts.
    public var restarts = 0
    /// LP solves (checks, certificate verification and tightening).
    public var lpCalls = 0
    /// Stabilization rounds (LP tightening of near-stable neurons).
    public var stabilizations = 0
    /// Neurons that stabilization rounds proved stable (each a published fact or clause).
    public var stabilizedNeurons = 0
    /// Input-box splits (low-dimensional inputs).
    public var inputSplits = 0
    /// Joint problems searched: disjuncts of one case, each a single output constraint, left
    /// open by the root bounds and searched in one tree.
    public var jointProblems = 0
    /// Joint problems whose search ran out of its share, so that their alternatives were
    /// searched one by one.
    public var jointFallbacks = 0
    /// Searches (one per worker and problem) that stopped running the LP at inner nodes because
    /// one LP took longer than its budget (``SearchOptions/slowLPRatio`` bound computations).
    public var lpAbandoned = 0
    /// Search nodes that bounds left open and the optimised split multipliers (beta-CROWN)
    /// refuted, without an LP.
    public var splitRefutations = 0
    /// Steps of slope and split-multiplier optimisation at search nodes (each a backward and a
    /// forward pass of one objective through the network).
    public var optimizerSteps = 0
    /// Search nodes refuted with their nearest ancestor's intermediate bounds, before their own
    /// were computed.
    public var parentBoundRefutations = 0
    /// Nodes whose ancestor's bounds left them open and that then computed their own, and how
    /// many of those their own bounds refuted.
    public var ownBoundChecks = 0
    public var ownBoundRefutations = 0
    /// Searches that stopped computing a node's own intermediate bounds because they rarely
    /// refuted what the ancestor's had left open (``SearchOptions/ownBoundsMinimumRefutationRate``),
    /// and the nodes judged with their ancestor's bounds alone since.
    public var ownBoundsUnproductive = 0
    public var parentBoundsKept = 0
    /// Searches that stopped running the LP at inner nodes because, after the split
    /// multipliers, it rarely refuted one (``SearchOptions/innerLPMinimumRefutationRate``).
    public var lpUnproductive = 0
    /// LP checks at inner nodes that the split multipliers had left open, and how many of them
    /// refuted the node.
    public var innerLPChecks = 0
    public var innerLPRefutations = 0
    /// Seconds spent choosing branches (decide, and choosing input split dimensions).
    public var decideSeconds = 0.0
    /// Seconds spent in propagation (bounds under the assignment, unit propagation).
    public var propagateSeconds = 0.0
    /// Seconds spent in theory checks (LP).
    public var checkSeconds = 0.0
    /// Seconds spent analysing conflicts (including certificate verification).
    public var analyzeSeconds = 0.0
    /// Seconds spent in falsification (attacks and candidate checks).
    public var falsifySeconds = 0.0
    /// Seconds spent stabilizing (LP tightening).
    public var stabilizeSeconds = 0.0
    /// Seconds spent bounding the root of every case × conjunction before any search (optimised
    /// intermediate bounds and slopes included).
    public var rootSeconds = 0.0
    /// The best margin (largest sound lower bound of `c·y − rhs` over the conjunction's
    /// constraints) at the root of each case × conjunction with an output constraint that the
    /// root bounds left open, in order: how far each search starts from a refutation.
    public var openRootMargins: [Double] = []
    /// Unstable ReLUs at the root of each case × conjunction left open, in the same order.
    public var openRootUnstable: [Int] = []

    /// Empty statistics.
    public init() {}

    /// Adds another run's counters and times to these.
    public mutating func merge(_ other: SearchStatistics) {
        nodes += other.nodes
        decisions += other.decisions
        if decisionsPerLayer.count < other.decisionsPerLayer.count {
            decisionsPerLayer += [Int](repeating: 0, count: other.decisionsPerLayer.count - decisionsPerLayer.count)
        }
        for (layer, n) in other.decisionsPerLayer.enumerated() { decisionsPerLayer[layer] += n }
        propagations += other.propagations
        conflicts += other.conflicts
        learnedClauses += other.learnedClauses
        restarts += other.restarts
        lpCalls += other.lpCalls
        stabilizations += other.stabilizations
        stabilizedNeurons += other.stabilizedNeurons
        inputSplits += other.inputSplits
        jointProblems += other.jointProblems
        jointFallbacks += other.jointFallbacks
        lpAbandoned += other.lpAbandoned
        splitRefutations += other.splitRefutations
        optimizerSteps += other.optimizerSteps
        parentBoundRefutations += other.parentBoundRefutations
        ownBoundChecks += other.ownBoundChecks
        ownBoundRefutations += other.ownBoundRefutations
        ownBoundsUnproductive += other.ownBoundsUnproductive
        parentBoundsKept += other.parentBoundsKept
        lpUnproductive += other.lpUnproductive
        innerLPChecks += other.innerLPChecks
        innerLPRefutations += other.innerLPRefutations
        decideSeconds += other.decideSeconds
        propagateSeconds += other.propagateSeconds
        checkSeconds += other.checkSeconds
        analyzeSeconds += other.analyzeSeconds
        falsifySeconds += other.falsifySeconds
        stabilizeSeconds += other.stabilizeSeconds
        rootSeconds += other.rootSeconds
        openRootMargins += other.openRootMargins
        openRootUnstable += other.openRootUnstable
    }
}

/// A started timer (nnenum's `Timers.tic/toc`, as a value): read ``seconds`` to "toc".
struct Stopwatch {
    private let start = ContinuousClock.now

    /// Seconds since the stopwatch was created.
    var seconds: Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
