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

    /// Sound bounds over a region, and what they say about the problem's conjunction.
    struct Evaluation {
        var bounds: NetworkBounds
        /// Per output constraint: a sound lower bound of `c·y − rhs` (`+∞` when infeasible).
        var margins: [Double]
        /// The region cannot contain a point satisfying the conjunction.
        var refuted: Bool
        /// Per output constraint, the optimised lower slopes found for it (when slope steps ran).
        var optimizedSlopes: [Int: [[Double]]] = [:]
        /// The slopes and split multipliers a search node optimised, to warm-start its children.
        var splitOptimum: SplitOptimum?
        /// The refutation came from the split multipliers (the bounds alone left it open).
        var refutedBySplits = false
        /// The refutation used an ancestor's intermediate bounds (none were computed here).
        var refutedByParentBounds = false

        /// The constraint closest to refutation: the LP minimises its left-hand side.
        var hardestConstraint: Int {
            margins.indices.max { margins[$0] < margins[$1] } ?? 0
        }

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
    func evaluate(box: Box, assignment: PhaseAssignment?, slopeIterations: Int = 0,
                  deadline: ContinuousClock.Instant? = nil,
                  parent: (assignment: PhaseAssignment, bounds: NetworkBounds)? = nil,
                  optimizingIntermediate: Bool = true, optimizingSplits: Bool = false,
                  warmStart: SplitOptimum? = nil) -> Evaluation {
        var warmStart = warmStart
        if boundsFromParentFirst, optimizingSplits, slopeIterations == 0, let parent, let assignment,
           !parent.bounds.isInfeasible, assignment.refines(parent.assignment) {
            // The ancestor's bounds hold in this sub-region, and the judge re-applies the new
            // phases to them (beta-CROWN keeps intermediate bounds the same way): a node they
            // refute skips re-computing the intermediate bounds, most of a node's cost.
            var quick = judge(bounds: parent.bounds, box: box, assignment: assignment, slopeIterations: 0,
                              deadline: deadline, optimizingSplits: true, warmStart: warmStart)
            if quick.refuted {
                quick.refutedByParentBounds = true
                return quick
            }
            warmStart = quick.splitOptimum ?? warmStart
        }
        var bounds = self.bounds(box: box, assignment: assignment, parent: parent)
        // The root's own evaluation (the only one with slope steps) computes the optimised
        // intermediate bounds once per box; `bounds(box:assignment:)` seeds everything after with them.
        if optimizingIntermediate, slopeIterations > 0, intermediateSlopeIterations > 0, problem.refinedBounds == nil,
           !bounds.isInfeasible, assignment?.phases.allSatisfy({ $0.allSatisfy { $0 == nil } }) ?? true {
            // A conjunction that the cheaper bounds refute does not pay for them: on a residual
            // CIFAR network they cost seconds (cifar10_resnet resnet_2b prop_24, refuted at the
            // root: unsat in 13.4 s with them first, 5.1 s without).
            if propagator.rememberedOptimizedRootBounds(box: box) == nil {
                let quick = evaluate(box: box, assignment: assignment, slopeIterations: slopeIterations,
                                     deadline: deadline, parent: parent, optimizingIntermediate: false)
                if quick.refuted { return quick }
            }
            let now = ContinuousClock.now
            let intermediateDeadline = deadline.map { now + ($0 - now) * intermediateSlopeBudget }
            bounds = propagator.optimizedRootBounds(box: box, iterations: intermediateSlopeIterations,
                                                    deadline: intermediateDeadline)
        }
        return judge(bounds: bounds, box: box, assignment: assignment, slopeIterations: slopeIterations,
                     deadline: deadline, optimizingSplits: optimizingSplits, warmStart: warmStart)
    }

    /// What sound bounds `bounds` over `box` ∧ `assignment` (possibly an ancestor's, which are
    /// looser but still sound) say about the conjunction; see
    /// ``evaluate(box:assignment:slopeIterations:deadline:parent:optimizingIntermediate:optimizingSplits:warmStart:)``.
    private func judge(bounds: NetworkBounds, box: Box, assignment: PhaseAssignment?, slopeIterations: Int,
                       deadline: ContinuousClock.Instant?, optimizingSplits: Bool,
                       warmStart: SplitOptimum?) -> Evaluation {
        if bounds.isInfeasible || problem.triviallyRefuted {
            return Evaluation(bounds: bounds, margins: problem.outputConstraints.map { _ in .infinity }, refuted: true)
        }
        // Interval bounds first (free); back-substitute constraints from the most promising one
        // and stop at the first refutation (one refuted constraint refutes the conjunction).
        // Refutation compares the sound lower bound itself with the right-hand side: a margin
        // `lower − rhs` rounded and added back could reach `rhs` when `lower` is just below it.
        let constraints = problem.outputConstraints
        var lowers = constraints.map { Self.intervalLowerBound($0.coefficients, bounds.output) }
        func margins() -> [Double] { zip(lowers, constraints).map { $0 - $1.rhs } }
        func refuted(_ k: Int) -> Bool { Problem.refutes(lower: lowers[k], constraints[k]) }
        if lowers.indices.contains(where: refuted) {
            return Evaluation(bounds: bounds, margins: margins(), refuted: true)
        }
        var adaptiveLowers: [Int: Double] = [:]
        for k in lowers.indices.sorted(by: { lowers[$0] - constraints[$0].rhs > lowers[$1] - constraints[$1].rhs }) {
            // The root's optimised slopes stay valid lower lines in every sub-region (any slope in
            // [0, 1] is), and on convolutional networks they often beat the adaptive ones there:
            // oval21 cifar_wide_kw img4720, one thread, 60 s, unsat in 7 s with them and 35 s
            // without; cifar_base_kw img5303 22 s, a timeout without. mnistfc and ACAS Xu, where
            // the LP decides most nodes, are unchanged. Both go back in one pass.
            let slopeSets: [[[Double]]?] = slopeIterations == 0 && problem.rootSlopes[k] != nil
                ? [nil, problem.rootSlopes[k]] : [nil]
            let bounded = propagator.lowerBounds(outputCoefficients: constraints[k].coefficients, box: box,
                                                 assignment: assignment, bounds: bounds, slopeSets: slopeSets)
            adaptiveLowers[k] = bounded[0]
            lowers[k] = max(lowers[k], bounded.max()!)
            if refuted(k) { return Evaluation(bounds: bounds, margins: margins(), refuted: true) }
        }
        if optimizingSplits, slopeIterations == 0, splitMultiplierIterations > 0, let assignment,
           assignment.phases.contains(where: { $0.contains { $0 != nil } }),
           let k = lowers.indices.max(by: { lowers[$0] - constraints[$0].rhs < lowers[$1] - constraints[$1].rhs }) {
            let warm = warmStart?.constraint == k ? warmStart : nil
            let optimized = propagator.optimizedLowerBound(
                outputCoefficients: constraints[k].coefficients, box: box, assignment: assignment, bounds: bounds,
                iterations: splitMultiplierIterations, deadline: deadline,
                initialSlopes: warm?.slopes ?? problem.rootSlopes[k], stopAbove: constraints[k].rhs,
                optimizingSplits: true, initialBetas: warm?.betas, abandoningUnreachable: true,
                knownDefaultBound: adaptiveLowers[k])
            lowers[k] = max(lowers[k], optimized.bound)
            let optimum = optimized.betas.map { SplitOptimum(constraint: k, slopes: optimized.slopes, betas: $0) } ?? warm
            if refuted(k) {
                return Evaluation(bounds: bounds, margins: margins(), refuted: true, splitOptimum: optimum, refutedBySplits: true)
            }
            return Evaluation(bounds: bounds, margins: margins(), refuted: false, splitOptimum: optimum)
        }
        var optimizedSlopes: [Int: [[Double]]] = [:]
        if slopeIterations > 0 {
            for k in lowers.indices.sorted(by: { lowers[$0] - constraints[$0].rhs > lowers[$1] - constraints[$1].rhs }) {
                let optimized = propagator.optimizedLowerBound(
                    outputCoefficients: constraints[k].coefficients, box: box, assignment: assignment, bounds: bounds,
                    iterations: slopeIterations, deadline: deadline, stopAbove: constraints[k].rhs)
                lowers[k] = max(lowers[k], optimized.bound)
                optimizedSlopes[k] = optimized.slopes
                if refuted(k) { return Evaluation(bounds: bounds, margins: margins(), refuted: true) }
            }
        }
        return Evaluation(bounds: bounds, margins: margins(), refuted: false, optimizedSlopes: optimizedSlopes)
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
        innerLPChecks += 1
        stats.innerLPChecks += 1
        if refuted {
            innerLPRefutations += 1
            stats.innerLPRefutations += 1
        }
        guard !lpUnproductive, innerLPChecks >= options.innerLPWindow else { return }
        if Double(innerLPRefutations) < options.innerLPMinimumRefutationRate * Double(innerLPChecks) {
            lpUnproductive = true
            stats.lpUnproductive += 1
        }
    }
}
