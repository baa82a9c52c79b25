import LPAbstraction
import Network
import VNNLib

/// How a search over one problem (or one cube of it) ended.
enum SearchOutcome {
    /// No point of the region satisfies the conjunction (proved).
    case refuted
    /// A checked counterexample.
    case counterexample(Counterexample)
    /// The deadline passed.
    case timeout
    /// The search ended without proof: some leaf could not be decided (an LP failure, or an LP
    /// point that the real network does not confirm).
    case unknown
}

/// A reason for backtracking: a clause all of whose literals are false, or a set of true literals
/// that the theory refuted together.
enum Conflict {
    case clause(Int)
    case literals([Literal])
}

/// Everything one worker's DPLL(T) search over one problem knows: the trail, the learned
/// clauses, the theory, heuristics and counters. Each phase of the loop lives in its own file as
/// an extension (`Decide.swift`, `Propagate.swift`, `Analyze.swift`, …), CaDiCaL-style.
final class SolverState {
    let network: Network
    let problem: Problem
    let options: SearchOptions
    let deadline: ContinuousClock.Instant
    let theory: Theory
    let variables: VariableMap
    let checker: CounterexampleChecker
    /// Clauses shared with the other workers of this problem.
    let shared: SharedClauseStore
    /// The work pool this worker draws cubes from (for donating sub-trees), if parallel.
    let pool: WorkPool<[Literal]>?

    var trail: Trail
    var clauses: ClauseDatabase
    /// Sorted literal lists of every clause this worker holds, so imports skip duplicates.
    var knownClauses = Set<[Literal]>()
    /// Learned unit clauses: facts re-asserted at level 0 whenever the worker starts a cube.
    var units: [Literal] = []
    /// Position in ``shared`` up to which clauses were imported.
    var importedUpTo = 0
    var stats = SearchStatistics()

    /// Per variable: VSIDS-like activity, bumped for variables of learned clauses.
    var activity: [Double]
    var activityIncrement = 1.0
    /// Per variable: the phase seen last at a candidate point (phase saving).
    var savedPhase: [Phase?]
    /// Per variable: a static estimate of how much the neuron can move the objective.
    var importance: [Double]
    /// The evaluation at the current node (after propagation).
    var evaluation: Theory.Evaluation? {
        didSet { relaxationGap = nil }
    }
    /// Per variable, at the current node's LP optimum: `y − max(x, 0)` (nil until an LP ran).
    var relaxationGap: [Double]?

    /// Levels `1 ... baseLevel` hold the cube's assumptions; the search never backtracks below.
    var baseLevel = 0
    /// The cube being searched.
    var cube: [Literal] = []
    var conflictsSinceRestart = 0
    var conflictsSinceStabilize = 0
    /// The cube and the number of base-level literals when a stabilization round that tried all
    /// its candidates proved nothing. The same base assignment gives the same candidates and the
    /// same LPs, so no round runs again until a fact or the cube changes it (oval21
    /// cifar_wide_kw img19: four fruitless rounds took 41 s of a 182 s search).
    var fruitlessStabilizationBase: (cube: [Literal], literals: Int)?
    var lubyIndex = 1
    /// Some leaf could not be decided: the result can at best be `unknown`.
    var incomplete = false
    /// Seconds the last bound computation took (to judge whether LPs are worth it).
    var lastBoundSeconds = 0.0
    /// LPs proved too slow to run at every node (here, or by an earlier problem of the same run:
    /// ``SearchOptions/lpsKnownTooSlow``): only leaves get one.
    var lpTooSlow: Bool
    /// LPs at inner nodes that the split multipliers had left open, and how many refuted; when
    /// few do, only leaves get one (``lpUnproductive``, ``noteInnerLP(refuted:)``).
    var innerLPs = RefutationTally()
    var lpUnproductive = false
    /// Nodes that computed their own intermediate bounds after their ancestor's left them open,
    /// and how many of those refuted; when few do, nodes keep their ancestor's
    /// (``ownBoundsUnproductive``, ``noteOwnBounds(refuted:)``).
    var ownBounds = RefutationTally()
    var ownBoundsUnproductive = false
    /// Whether inner nodes get an LP check.
    var lpAtInnerNodes: Bool { options.lpAtNodes && !lpTooSlow && !lpUnproductive && !theory.lpUnavailable }
    /// Per decision level: the LP basis of the last open node solved at that level. After a
    /// backjump the LP starts from the basis of the level it returns to instead of the basis of
    /// the deep node it left, which is far from the new node (mnistfc 256x4: a fifth less time
    /// per LP).
    var lpBasisAtLevel: [Int: LPRelaxation.Basis] = [:]
    /// Per decision level: the assignment and bounds of the last node evaluated at that level, and
    /// the constraints of a joint problem refuted there.
    /// A node below starts from them (``Theory/evaluate(box:assignment:slopeIterations:deadline:parent:optimizingIntermediate:optimizingSplits:warmStart:)``)
    /// instead of back-substituting every layer again.
    var boundsAtLevel: [Int: (assignment: PhaseAssignment, bounds: NetworkBounds, refuted: [Bool])] = [:]
    /// The slopes and split multipliers last optimised at each decision level, kept like
    /// ``boundsAtLevel``: a child's optimisation starts from them.
    var splitOptimumAtLevel: [Int: Theory.SplitOptimum] = [:]
    /// Scratch marks for conflict analysis.
    var seen: [Bool]

    init(network: Network, problem: Problem, specification: Specification, options: SearchOptions,
         deadline: ContinuousClock.Instant, propagator: BoundPropagator, pool: WorkPool<[Literal]>?) {
        self.network = network
        self.problem = problem
        self.options = options
        self.deadline = deadline
        self.theory = Theory(network: network, problem: problem, propagator: propagator)
        theory.splitMultiplierIterations = options.splitMultiplierIterations
        theory.boundsFromParentFirst = options.boundsFromParentFirst
        lpTooSlow = options.lpsKnownTooSlow
        ownBoundsUnproductive = options.ownBoundsKnownUnproductive
        self.variables = VariableMap(network: network)
        self.checker = CounterexampleChecker(network: network, specification: specification)
        self.shared = problem.learnedClauses
        self.pool = pool
        trail = Trail(network: network, variables: variables)
        clauses = ClauseDatabase(variableCount: variables.count)
        activity = Array(repeating: 0, count: variables.count)
        savedPhase = Array(repeating: nil, count: variables.count)
        seen = Array(repeating: false, count: variables.count)
        importance = Importance.estimate(network: network, problem: problem, variables: variables)
    }

    var isPastDeadline: Bool { ContinuousClock.now >= deadline }

    /// Runs the real network on a candidate input: returns a checked counterexample, and saves the
    /// phases the input induces (the next decisions follow them, towards that point).
    func tryCandidate(_ input: [Double]) -> Counterexample? {
        let clock = Stopwatch()
        defer { stats.falsifySeconds += clock.seconds }
        var x = input
        for i in x.indices { x[i] = min(max(x[i], problem.box.lower[i]), problem.box.upper[i]) }
        let values = network.nodeValues(x)
        for (layer, node) in network.reluNodes.enumerated() {
            let pre = values[network.nodes[node].inputs[0]]
            for i in pre.indices { savedPhase[variables.offsets[layer] + i] = pre[i] > 0 ? .active : .inactive }
        }
        // Only a point that (nearly) satisfies the relaxed conjunction (one of the alternatives, in
        // a joint problem) is worth the full check.
        let y = values[network.output]
        let nearlySatisfied = problem.outputConstraints.map { c in
            var slack = -c.rhs
            for j in c.coefficients.indices where c.coefficients[j] != 0 { slack += c.coefficients[j] * y[j] }
            return slack <= 1e-6 * max(1, abs(c.rhs))
        }
        if problem.constraintsAreAlternatives ? !nearlySatisfied.contains(true) : nearlySatisfied.contains(false) {
            return nil
        }
        return checker.check(x, caseIndex: problem.caseIndex)
    }
}

/// How often one of the search's costlier refuters (an inner node's LP, a node's own intermediate
/// bounds) refuted what the cheaper ones left open: the search stops paying for it where it
/// rarely does.
struct RefutationTally {
    var checks = 0
    var refutations = 0

    mutating func record(refuted: Bool) {
        checks += 1
        if refuted { refutations += 1 }
    }

    /// Whether, after at least `window` checks, fewer than `minimumRate` of them refuted.
    func fallsShort(of minimumRate: Double, after window: Int) -> Bool {
        checks >= window && Double(refutations) < minimumRate * Double(checks)
    }
}
