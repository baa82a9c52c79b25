import LPAbstraction
import Network

/// The theory of the DPLL(T) search: sound bounds, then the LP, over one problem's input region
/// under a phase assignment. One instance per worker (it owns the worker's GLPK problem, and GLPK
/// keeps its environment per thread).
final class Theory {
    let network: Network
    let problem: Problem
    let propagator: BoundPropagator
    /// The worker's LP relaxation, built on first use and warm-started afterwards (type-erased so
    /// this file does not depend on how the LP is implemented; see `LPCheck.swift`).
    var lpState: AnyObject?
    /// Set when the LP cannot be built or fails: the search then goes on with bounds alone.
    var lpUnavailable = false
    /// Steps per layer and time factor of the root's optimised intermediate bounds
    /// (``SearchOptions/rootIntermediateSlopeIterations``, ``SearchOptions/rootIntermediateSlopeBudget``).
    var intermediateSlopeIterations = SearchOptions().rootIntermediateSlopeIterations
    var intermediateSlopeBudget = SearchOptions().rootIntermediateSlopeBudget
    /// Steps of the joint slope and split-multiplier optimisation at a search node
    /// (``SearchOptions/splitMultiplierIterations``); 0 switches it off.
    var splitMultiplierIterations = 0
    /// Whether a node first tries its ancestor's intermediate bounds
    /// (``SearchOptions/boundsFromParentFirst``).
    var boundsFromParentFirst = false
    /// A basis for the next LP check to start from (a warm-start hint, used once; see
    /// ``LPRelaxation/restore(_:)``).
    var startBasis: LPRelaxation.Basis?

    init(network: Network, problem: Problem, propagator: BoundPropagator) {
        self.network = network
        self.problem = problem
        self.propagator = propagator
    }

    /// Sound bounds over a region, and what they say about the problem's conjunction (or, in a
    /// joint problem, its alternatives).
    struct Evaluation {
        var bounds: NetworkBounds
        /// Per output constraint: a sound lower bound of `c·y − rhs` (`+∞` when infeasible).
        var margins: [Double]
        /// The region cannot contain a point satisfying the conjunction (in a joint problem: any
        /// of the alternatives).
        var refuted: Bool
        /// Per output constraint, whether the region holds no point satisfying it (in a joint
        /// problem, the ones an ancestor refuted included: they stay refuted below it).
        var refutedConstraints: [Bool]
        /// The constraint the LP minimises and branching aims at: in a conjunction the one closest
        /// to refutation (refuting it refutes the conjunction); in a joint problem the open one
        /// furthest from refutation, which keeps the node open. One thread, 100 s, against the
        /// closest open one for the LP and branching alike: mnistfc 256x2 prop_3_0.03 unsat with
        /// 1,254 nodes instead of 1,673, 256x2 prop_9_0.05 sat in 1.2 s instead of 19.7 s (the
        /// LP's point now comes from the likeliest violation), oval21 cifar_base_kw img6638 unsat
        /// in 22.0 s instead of 27.8 s.
        var focusConstraint = 0
        /// Per output constraint, the optimised lower slopes found for it (when slope steps ran).
        var optimizedSlopes: [Int: [[Double]]] = [:]
        /// The slopes and split multipliers a search node optimised, to warm-start its children.
        var splitOptimum: SplitOptimum?
        /// The refutation came from the split multipliers (the bounds alone left it open).
        var refutedBySplits = false
        /// The refutation used an ancestor's intermediate bounds (none were computed here).
        var refutedByParentBounds = false
        /// The ancestor's bounds left the node open and, as asked, stand as its bounds: none were
        /// computed here.
        var keptParentBounds = false
        /// The ancestor's bounds left the node open, and these are the node's own.
        var computedOwnBoundsAfterParent = false
        /// Steps of slope and split-multiplier optimisation this evaluation ran (each one a
        /// backward and a forward pass of one objective).
        var optimizerSteps = 0

        /// The best (largest) margin; `-∞` when the conjunction has no output constraint.
        var bestMargin: Double { margins.max() ?? -.infinity }
    }

    /// The joint optimum of slopes and split multipliers (beta-CROWN) for one constraint at a
    /// search node; a child starts from its parent's.
    struct SplitOptimum {
        var constraint: Int
        var slopes: [[Double]]
        var betas: [[Double]]
    }

    /// Bounds over `box` under `assignment` and whether they refute the conjunction: the region is
    /// empty, or some constraint's sound lower bound exceeds its right-hand side.
    ///
    /// With `slopeIterations` > 0, constraints that CROWN's adaptive slopes leave unrefuted get
    /// optimised slopes (alpha-CROWN, that many steps): within a few hundredths of the LP on
    /// mnistfc at a tenth of its cost, which settles many problems before any LP or search. Such
    /// a root evaluation (no phase fixed) that these leave open also optimises the intermediate
    /// bounds, once per box, within `intermediateSlopeBudget` times the time `deadline` leaves,
    /// and evaluates again with them (unless `optimizingIntermediate` is off).
    ///
    /// `parent`, when given, holds the bounds of `box` under an assignment with a subset of
    /// `assignment`'s phases (a search node's ancestor): layers before the first new phase are
    /// not back-substituted again.
    ///
    /// With `optimizingSplits`, a node (`slopeIterations` 0) that these bounds leave open, with
    /// some phase fixed, then optimises slopes and the multipliers of its phase constraints
    /// together for the constraint closest to refutation (``splitMultiplierIterations`` steps,
    /// from `warmStart` when it is for the same constraint, else from the root's slopes).
    ///
    /// In a joint problem, `parent.refuted` lists the constraints the ancestor's region refuted:
    /// they hold no point of this sub-region either, and are not bounded again.
    ///
    /// With `keepingParentBounds`, a node that the ancestor's bounds leave open keeps them (they
    /// hold in its sub-region) instead of computing its own (``SearchOptions/ownBoundsWindow``).
    func evaluate(box: Box, assignment: PhaseAssignment?, slopeIterations: Int = 0,
                  deadline: ContinuousClock.Instant? = nil,
                  parent: (assignment: PhaseAssignment, bounds: NetworkBounds, refuted: [Bool])? = nil,
                  optimizingIntermediate: Bool = true, optimizingSplits: Bool = false,
                  warmStart: SplitOptimum? = nil, keepingParentBounds: Bool = false) -> Evaluation {
        var warmStart = warmStart
        var settled: [Bool]?
        var quickSteps = 0
        var parentLeftOpen = false
        if problem.constraintsAreAlternatives, let parent, let assignment, assignment.refines(parent.assignment),
           parent.refuted.count == problem.outputConstraints.count {
            settled = parent.refuted
        }
        if boundsFromParentFirst, optimizingSplits, slopeIterations == 0, let parent, let assignment,
           !parent.bounds.isInfeasible, assignment.refines(parent.assignment) {
            // The ancestor's bounds hold in this sub-region, and the judge re-applies the new
            // phases to them (beta-CROWN keeps intermediate bounds the same way): a node they
            // refute skips re-computing the intermediate bounds, most of a node's cost.
            var quick = judge(bounds: parent.bounds, box: box, assignment: assignment, slopeIterations: 0,
                              deadline: deadline, optimizingSplits: true, warmStart: warmStart, settled: settled)
            if quick.refuted {
                quick.refutedByParentBounds = true
                return quick
            }
            if keepingParentBounds {
                quick.keptParentBounds = true
                return quick
            }
            parentLeftOpen = true
            quickSteps = quick.optimizerSteps
            warmStart = quick.splitOptimum ?? warmStart
            if problem.constraintsAreAlternatives { settled = quick.refutedConstraints }
        }
        let parent = parent.map { (assignment: $0.assignment, bounds: $0.bounds) }
        var bounds = self.bounds(box: box, assignment: assignment, parent: parent)
        // The root's own evaluation (the only one with slope steps) computes the optimised
        // intermediate bounds once per box; `bounds(box:assignment:)` seeds everything after with them.
        if optimizingIntermediate, slopeIterations > 0, intermediateSlopeIterations > 0, problem.refinedBounds == nil,
           !bounds.isInfeasible, assignment?.phases.allSatisfy({ $0.allSatisfy { $0 == nil } }) ?? true {
            // A conjunction that the cheaper bounds refute does not pay for them: on a residual
            // CIFAR network they cost seconds (cifar10_resnet resnet_2b prop_24, refuted at the
            // root: unsat in 13.4 s with them first, 5.1 s without).
            if propagator.rememberedOptimizedRootBounds(box: box) == nil {
                let quick = judge(bounds: bounds, box: box, assignment: assignment, slopeIterations: slopeIterations,
                                  deadline: deadline, optimizingSplits: false, warmStart: nil, settled: settled)
                if quick.refuted { return quick }
            }
            let now = ContinuousClock.now
            let intermediateDeadline = deadline.map { now + ($0 - now) * intermediateSlopeBudget }
            bounds = propagator.optimizedRootBounds(box: box, iterations: intermediateSlopeIterations,
                                                    deadline: intermediateDeadline)
        }
        var evaluation = judge(bounds: bounds, box: box, assignment: assignment, slopeIterations: slopeIterations,
                               deadline: deadline, optimizingSplits: optimizingSplits, warmStart: warmStart,
                               settled: settled)
        evaluation.optimizerSteps += quickSteps
        evaluation.computedOwnBoundsAfterParent = parentLeftOpen
        return evaluation
    }

    /// What sound bounds `bounds` over `box` ∧ `assignment` (possibly an ancestor's, which are
    /// looser but still sound) say about the conjunction or, in a joint problem, the alternatives;
    /// see ``evaluate(box:assignment:slopeIterations:deadline:parent:optimizingIntermediate:optimizingSplits:warmStart:)``.
    /// `settled` marks the constraints of a joint problem already refuted in a region holding
    /// this one.
    private func judge(bounds: NetworkBounds, box: Box, assignment: PhaseAssignment?, slopeIterations: Int,
                       deadline: ContinuousClock.Instant?, optimizingSplits: Bool,
                       warmStart: SplitOptimum?, settled: [Bool]?) -> Evaluation {
        let constraints = problem.outputConstraints
        let alternatives = problem.constraintsAreAlternatives
        if bounds.isInfeasible || problem.triviallyRefuted {
            return Evaluation(bounds: bounds, margins: constraints.map { _ in .infinity }, refuted: true,
                              refutedConstraints: constraints.map { _ in true })
        }
        // Interval bounds first (free); back-substitute constraints from the most promising one.
        // A conjunction stops at the first refutation (one refuted constraint refutes it); a joint
        // problem needs every alternative refuted.
        // Refutation compares the sound lower bound itself with the right-hand side: a margin
        // `lower − rhs` rounded and added back could reach `rhs` when `lower` is just below it.
        var lowers = constraints.map { Self.intervalLowerBound($0.coefficients, bounds.output) }
        var refutedConstraints = settled ?? constraints.map { _ in false }
        func refutes(_ k: Int) -> Bool {
            if Problem.refutes(lower: lowers[k], constraints[k]) { refutedConstraints[k] = true }
            return refutedConstraints[k]
        }
        func settlesAll() -> Bool {
            alternatives ? !refutedConstraints.contains(false) : refutedConstraints.contains(true)
        }
        func margin(_ k: Int) -> Double {
            alternatives && refutedConstraints[k] ? .infinity : lowers[k] - constraints[k].rhs
        }
        /// The constraints still open, the closest to refutation first.
        func open() -> [Int] {
            lowers.indices.filter { !refutedConstraints[$0] }.sorted { margin($0) > margin($1) }
        }
        var steps = 0
        func evaluation(refuted: Bool, focus: Int? = nil) -> Evaluation {
            let margins = lowers.indices.map(margin)
            return Evaluation(bounds: bounds, margins: margins, refuted: refuted, refutedConstraints: refutedConstraints,
                              focusConstraint: focus ?? margins.indices.max { margins[$0] < margins[$1] } ?? 0,
                              optimizerSteps: steps)
        }
        for k in lowers.indices where !refutedConstraints[k] { _ = refutes(k) }
        if settlesAll() { return evaluation(refuted: true) }
        // The root's optimised slopes stay valid lower lines in every sub-region (any slope in
        // [0, 1] is), and on convolutional networks they often beat the adaptive ones there:
        // oval21 cifar_wide_kw img4720, one thread, 60 s, unsat in 7 s with them and 35 s
        // without; cifar_base_kw img5303 22 s, a timeout without. mnistfc and ACAS Xu, where
        // the LP decides most nodes, are unchanged. Every open constraint with both sets goes back
        // in one pass.
        let pending = open()
        var objectives: [(coefficients: [Double], slopes: [[Double]]?)] = []
        var owners: [(constraint: Int, adaptive: Bool)] = []
        for k in pending {
            objectives.append((constraints[k].coefficients, nil))
            owners.append((k, true))
            if slopeIterations == 0, let rootSlopes = problem.rootSlopes[k] {
                objectives.append((constraints[k].coefficients, rootSlopes))
                owners.append((k, false))
            }
        }
        var adaptiveLowers: [Int: Double] = [:]
        let bounded = propagator.lowerBounds(objectives: objectives, box: box, assignment: assignment, bounds: bounds)
        for (owner, bound) in zip(owners, bounded) {
            if owner.adaptive { adaptiveLowers[owner.constraint] = bound }
            lowers[owner.constraint] = max(lowers[owner.constraint], bound)
        }
        for k in pending { _ = refutes(k) }
        if settlesAll() { return evaluation(refuted: true) }
        if optimizingSplits, slopeIterations == 0, splitMultiplierIterations > 0, let assignment,
           assignment.phases.contains(where: { $0.contains { $0 != nil } }) {
            // A conjunction optimises its closest constraint only; a joint problem goes on while
            // each one falls, and the first that stands keeps the node open (the ones that fell
            // are never bounded again below it).
            var optimum: SplitOptimum?
            for k in alternatives ? open() : Array(open().prefix(1)) {
                let warm = warmStart?.constraint == k ? warmStart : nil
                let optimized = propagator.optimizedLowerBound(
                    outputCoefficients: constraints[k].coefficients, box: box, assignment: assignment, bounds: bounds,
                    iterations: splitMultiplierIterations, deadline: deadline,
                    initialSlopes: warm?.slopes ?? problem.rootSlopes[k], stopAbove: constraints[k].rhs,
                    optimizingSplits: true, initialBetas: warm?.betas, abandoningUnreachable: true,
                    knownDefaultBound: adaptiveLowers[k])
                lowers[k] = max(lowers[k], optimized.bound)
                steps += optimized.iterations
                optimum = optimized.betas.map { SplitOptimum(constraint: k, slopes: optimized.slopes, betas: $0) } ?? warm
                if !refutes(k) {
                    var result = evaluation(refuted: false, focus: alternatives ? open().last : k)
                    result.splitOptimum = optimum
                    return result
                }
                if settlesAll() {
                    var result = evaluation(refuted: true)
                    result.splitOptimum = optimum
                    result.refutedBySplits = true
                    return result
                }
            }
            return evaluation(refuted: false)
        }
        var optimizedSlopes: [Int: [[Double]]] = [:]
        if slopeIterations > 0 {
            for k in open() {
                let optimized = propagator.optimizedLowerBound(
                    outputCoefficients: constraints[k].coefficients, box: box, assignment: assignment, bounds: bounds,
                    iterations: slopeIterations, deadline: deadline, stopAbove: constraints[k].rhs)
                lowers[k] = max(lowers[k], optimized.bound)
                steps += optimized.iterations
                optimizedSlopes[k] = optimized.slopes
                if refutes(k), settlesAll() { return evaluation(refuted: true) }
            }
        }
        var result = evaluation(refuted: false, focus: alternatives ? open().last : nil)
        result.optimizedSlopes = optimizedSlopes
        return result
    }

    /// Symbolic bounds over `box` under `assignment`, refining the problem's LP-tightened bounds
    /// when the box is the problem's own, and an ancestor's bounds (`parent`) when given.
    func bounds(box: Box, assignment: PhaseAssignment?,
                parent: (assignment: PhaseAssignment, bounds: NetworkBounds)? = nil) -> NetworkBounds {
        var seed: NetworkBounds?
        if let refined = problem.refinedBounds, box == problem.box {
            seed = refined
        } else {
            seed = propagator.rememberedOptimizedRootBounds(box: box)
        }
        if let parent, let assignment {
            return propagator.bounds(box: box, assignment: assignment, seed: seed, parent: parent.bounds,
                                     parentAssignment: parent.assignment)
        }
        if let seed { return propagator.bounds(box: box, assignment: assignment, method: .symbolic, seed: seed) }
        return propagator.bounds(box: box, assignment: assignment, method: .symbolic)
    }

    /// `min Σ c_j y_j` over the output box, rounded down (each product and sum is exact to
    /// within rounding; the final widening covers it).
    static func intervalLowerBound(_ c: [Double], _ output: LayerBounds) -> Double {
        var s = 0.0
        var magnitude = 0.0
        for j in c.indices where c[j] != 0 {
            let term = c[j] > 0 ? c[j] * output.lower[j] : c[j] * output.upper[j]
            s += term
            magnitude += abs(term)
        }
        if !s.isFinite { return -.infinity }
        return s - magnitude * Double(c.count + 2) * 0x1p-52 - Double.leastNonzeroMagnitude
    }
}

extension SolverState {
    /// The theory check after propagation, when bounds were inconclusive: the LP with the
    /// conjunction's constraints and the fixed phases (warm-started). Infeasible or a value that
    /// refutes → conflict; an optimum → a candidate point for the real network.
    /// With `atLeaf` (no unstable neuron left) the LP runs even when ``SearchOptions/lpAtNodes``
    /// is off: it is then exact, and the only way to decide the leaf.
    ///
    /// An inner node's LP gets a budget, ``SearchOptions/slowLPRatio`` bound computations (at
    /// least ``SearchOptions/slowLPSeconds``): an LP that needs more stops, and the worker keeps
    /// the LP for leaves from then on (``lpTooSlow``). Branching on bounds then explores far more
    /// of the tree: cifar10_resnet resnet_2b prop_36, one thread, 100 s: 8 s per LP and open
    /// (9 LPs, no decision), unsat in 86 s with LPs at leaves only. The worker does the same once
    /// the LPs rarely refute what the split multipliers left open (``noteInnerLP(refuted:)``;
    /// mnistfc 256x4 prop_0_0.03: 4 of 224 did).
    func check(_ evaluation: Theory.Evaluation, atLeaf: Bool = false) -> PropagationOutcome {
        guard lpAtInnerNodes || atLeaf, !theory.lpUnavailable else { return .open }
        let clock = Stopwatch()
        let budget = max(options.slowLPSeconds, options.slowLPRatio * lastBoundSeconds)
        let lpDeadline = atLeaf ? deadline : min(deadline, .now + .milliseconds(Int64(budget * 1000)))
        let result = theory.lpCheck(box: problem.box, evaluation: evaluation, assignment: trail.assignment,
                                    deadline: lpDeadline, lpCalls: &stats.lpCalls)
        stats.checkSeconds += clock.seconds
        if !atLeaf, evaluation.splitOptimum != nil || options.splitMultipliersBeforeLP {
            noteInnerLP(refuted: { if case .refuted = result { return true } else { return false } }())
        }
        switch result {
        case .refuted(let certificate):
            return .conflict(theoryConflict(certificate: certificate))
        case .candidate(let x, let gap):
            relaxationGap = gap
            if let basis = theory.lpBasis() { lpBasisAtLevel[trail.decisionLevel] = basis }
            if let ce = tryCandidate(x) { return .counterexample(ce) }
            return .open
        case .timeout:
            guard lpDeadline < deadline, !isPastDeadline else { return .timeout }
            lpTooSlow = true
            stats.lpAbandoned += 1
            return .open
        case .unavailable:
            return .open
        }
    }
}

extension SolverState {
    /// Records whether an inner node's LP, run after the split multipliers left the node open,
    /// refuted it. Where the multipliers leave the LP little to add, its time is better spent on
    /// more nodes, so once ``SearchOptions/innerLPWindow`` such LPs refuted less than
    /// ``SearchOptions/innerLPMinimumRefutationRate`` of the time, only leaves get one.
    func noteInnerLP(refuted: Bool) {
        innerLPs.record(refuted: refuted)
        stats.innerLPChecks += 1
        if refuted { stats.innerLPRefutations += 1 }
        if !lpUnproductive, innerLPs.fallsShort(of: options.innerLPMinimumRefutationRate, after: options.innerLPWindow) {
            lpUnproductive = true
            stats.lpUnproductive += 1
        }
    }
}
