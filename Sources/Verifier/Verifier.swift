import Foundation
import LPAbstraction
import Network
import VNNLib

/// Settings of one verification run.
public struct VerificationOptions: Sendable {
    /// Wall-clock limit for the whole run; the result is ``Verdict/timeout`` when it passes.
    public var timeout: Duration
    /// Worker threads for the parallel search.
    public var threads: Int
    /// Seed of every random choice (falsification), so runs are reproducible.
    public var seed: UInt64
    /// Where the run reports its stage and work while it runs; `nil` reports nothing.
    public var progress: VerificationProgress?

    /// Creates options; `threads` defaults to the number of active cores.
    public init(timeout: Duration = .seconds(60), threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                seed: UInt64 = 0, progress: VerificationProgress? = nil) {
        self.timeout = timeout
        self.threads = max(1, threads)
        self.seed = seed
        self.progress = progress
    }
}

/// The answer of ``Verifier/verify(network:specification:options:)``.
public struct VerificationResult: Sendable {
    /// `sat`, `unsat`, `unknown` or `timeout`.
    public var verdict: Verdict
    /// The checked counterexample when the verdict is `sat`.
    public var counterexample: Counterexample?
    /// What the search did and where its time went.
    public var statistics: SearchStatistics

    /// Creates a result.
    public init(verdict: Verdict, counterexample: Counterexample?, statistics: SearchStatistics) {
        self.verdict = verdict
        self.counterexample = counterexample
        self.statistics = statistics
    }
}

/// The verifier: falsification first, then a complete search per case and conjunction.
///
/// The property is violated when some case's box holds an input satisfying one of its
/// conjunctions, so the verdict is `unsat` only when every case × conjunction pair is refuted by
/// sound reasoning (bounds, LP values, verified infeasibility), and `sat` only with a counterexample
/// that ``CounterexampleChecker`` confirmed on the original network.
public enum Verifier {
    /// Verifies `specification` on `network` within `options.timeout`.
    public static func verify(network: Network, specification: Specification,
                              options: VerificationOptions) -> VerificationResult {
        var search = SearchOptions()
        search.seed = options.seed
        return verify(network: network, specification: specification, options: options, search: search)
    }

    /// As the public entry, with the search's tunables (tests use this to switch parts off).
    static func verify(network: Network, specification: Specification, options: VerificationOptions,
                       search: SearchOptions) -> VerificationResult {
        var search = search
        search.progress = options.progress
        // A convolution neuron reaches a patch only: early splits do not pay there
        // (``SearchOptions/branchingDepthDecay``).
        if network.nodes.contains(where: { if case .convolution = $0.operation { return true } else { return false } }) {
            search.branchingDepthDecay = 1
        }
        let start = ContinuousClock.now
        let deadline = start + options.timeout
        var stats = SearchStatistics()
        let progress = search.progress
        // A view passed from run to run (the suite's) starts afresh with each.
        progress?.update { $0 = .init(conjunctions: specification.cases.reduce(0) { $0 + $1.violation.count }) }
        func result(_ verdict: Verdict, _ ce: Counterexample? = nil) -> VerificationResult {
            progress?.update {
                $0.stage = .finished
                if verdict == .unsat { $0.refuted = $0.conjunctions }
            }
            return VerificationResult(verdict: verdict, counterexample: ce, statistics: stats)
        }
        guard specification.inputCount == network.inputSize, specification.outputCount == network.outputSize else {
            return result(.unknown)
        }

        func attack(seed: UInt64, repeats: Bool, until attackDeadline: ContinuousClock.Instant) -> Counterexample? {
            let clock = Stopwatch()
            let stage = progress?.snapshot().stage
            progress?.update { if $0.stage != .falsifying { $0.stage = .attacking } }
            defer { if let stage { progress?.update { $0.stage = stage } } }
            let falsifier = Falsifier(network: network, specification: specification,
                                      options: FalsificationOptions(seed: seed, repeatsUntilDeadline: repeats))
            let found = falsifier.run(deadline: min(deadline, attackDeadline))
            stats.falsifySeconds += clock.seconds
            return found
        }

        // 1. Falsification: cheap attacks find most counterexamples of sat instances. One pass of
        // the attack budget only here: a property that the root bounds settle should not pay for
        // a long attack.
        let falsifyBudget = search.falsifyBudget(timeout: options.timeout.inSeconds)
        var attackLeft = Duration.zero
        if falsifyBudget > 0 {
            let clock = Stopwatch()
            if let found = attack(seed: options.seed, repeats: false, until: .now + .milliseconds(Int64(falsifyBudget * 1000))) {
                return result(.sat, found)
            }
            attackLeft = .milliseconds(Int64(max(0, falsifyBudget - clock.seconds) * 1000))
        }

        // 2. One problem per case × conjunction; the cheap root bounds settle many of them.
        var propagator = BoundPropagator(network: network)
        propagator.deadline = deadline
        progress?.update { $0.stage = .boundingRoots }
        var open: [Problem] = []
        for c in specification.cases.indices {
            for d in specification.cases[c].violation.indices {
                if ContinuousClock.now >= deadline { return result(.timeout) }
                // Optimised slopes cost a bound computation per step: a small share of the time.
                let slopeDeadline = min(deadline, ContinuousClock.now + (deadline - ContinuousClock.now) * search.rootSlopeShare)
                var problem = Problem(specification: specification, caseIndex: c, disjunctIndex: d, network: network)
                let theory = Theory(network: network, problem: problem, propagator: propagator)
                theory.intermediateSlopeIterations = search.rootIntermediateSlopeIterations
                theory.intermediateSlopeBudget = search.rootIntermediateSlopeBudget
                let clock = Stopwatch()
                let evaluation = theory.evaluate(box: problem.box, assignment: nil, slopeIterations: search.rootSlopeIterations,
                                                 deadline: slopeDeadline)
                stats.rootSeconds += clock.seconds
                stats.nodes += 1
                progress?.update {
                    $0.nodes += 1
                    if evaluation.refuted { $0.refuted += 1 }
                }
                problem.rootSlopes = evaluation.optimizedSlopes
                if !evaluation.refuted {
                    open.append(problem)
                    if evaluation.bestMargin.isFinite {
                        stats.openRootMargins.append(evaluation.bestMargin)
                        stats.openRootUnstable.append(evaluation.bounds.preActivation.reduce(0) { count, layer in
                            count + zip(layer.lower, layer.upper).filter { $0 < 0 && $1 > 0 }.count
                        })
                    }
                }
            }
        }

        // Disjuncts of one case left open together are searched as one joint problem (not where
        // input splitting runs: its boxes hand their few unstable neurons to one conjunction's LP).
        if search.jointAlternatives, network.inputSize > search.inputSplitMaxDimension {
            open = jointProblems(open)
            stats.jointProblems += open.filter(\.constraintsAreAlternatives).count
        }

        // 3. The complete search of each open problem. A hard conjunction must not starve an easy
        // sat one behind it, so the first pass gives each problem a fair share of the time left;
        // problems that ran out get the rest, in turn, in a second pass.
        // A joint problem gets only a part of its share: where its alternatives need different
        // splits, one tree for all of them is far larger than theirs together (mnistfc 256x2
        // prop_1_0.03, one thread: the joint search times out at 100 s, the nine separate ones
        // take 19.8 s), and then its alternatives are searched one by one, from its clauses.
        var undecided = false
        var pending = open
        for pass in 0..<2 where !pending.isEmpty {
            var timedOut: [Problem] = []
            var k = 0
            // Joint problems of this pass already handed over to their parts: not counted as queued.
            var handedOver = 0
            while k < pending.count {
                var problem = pending[k]
                defer { k += 1 }
                let now = ContinuousClock.now
                if now >= deadline { return result(.timeout) }
                var share = pass == 0 ? (deadline - now) / (pending.count - k) : deadline - now
                let splitsLater = pass == 0 && !problem.separateParts.isEmpty
                if splitsLater { share = share * search.jointShare }
                let problemDeadline = min(deadline, now + share)
                progress?.update { [handedOver, count = pending.count] in
                    $0.stage = .searching
                    $0.problem = k + 1 - handedOver
                    $0.problems = count - handedOver
                    $0.secondPass = pass == 1
                }
                let (outcome, s): (SearchOutcome, SearchStatistics)
                if network.inputSize <= search.inputSplitMaxDimension {
                    (outcome, s) = InputSplitting.run(network: network, specification: specification, problem: problem,
                                                      options: search, threads: options.threads, deadline: problemDeadline,
                                                      propagator: propagator)
                } else {
                    (outcome, s) = reluSearch(network: network, specification: specification, problem: &problem,
                                              options: search, threads: options.threads, deadline: problemDeadline,
                                              propagator: propagator, mayTighten: pass == 0)
                    if s.lpAbandoned > 0 { search.lpsKnownTooSlow = true }
                    if s.ownBoundsUnproductive > 0 { search.ownBoundsKnownUnproductive = true }
                }
                stats.merge(s)
                switch outcome {
                case .counterexample(let ce): return result(.sat, ce)
                case .timeout where splitsLater:
                    stats.jointFallbacks += 1
                    pending += problem.partsWithLearnedClauses()
                    handedOver += 1
                case .timeout:
                    timedOut.append(problem)
                    // A hard instance: the rest of the attack budget goes to repeated passes now
                    // (once), before the next problem. Rare counterexamples need many samples
                    // (ACAS Xu 2_9 prop_8: one point in 3,000 of its box violates, in the second
                    // conjunction; the first is unsat and takes its whole share), and easy
                    // instances, settled by their first searches, never pay for it.
                    if attackLeft > .zero {
                        let found = attack(seed: options.seed &+ 2, repeats: true, until: .now + attackLeft)
                        attackLeft = .zero
                        if let found { return result(.sat, found) }
                    }
                case .unknown: undecided = true
                case .refuted:
                    progress?.update { $0.refuted += max(1, problem.separateParts.count) }
                }
            }
            pending = timedOut
        }
        if !pending.isEmpty { return result(.timeout) }
        if undecided, ContinuousClock.now < deadline {
            // The search gave up on some problem; the time left goes to a longer attack, which
            // can still turn `unknown` into a checked `sat`.
            if let found = attack(seed: options.seed &+ 1, repeats: true, until: deadline) { return result(.sat, found) }
            return result(.timeout)
        }
        return result(undecided ? .unknown : .unsat)
    }

    /// `problems` with each case's run of disjuncts that ``Problem/joint(_:)`` accepts replaced by
    /// their joint problem.
    private static func jointProblems(_ problems: [Problem]) -> [Problem] {
        var result: [Problem] = []
        var start = 0
        while start < problems.count {
            var end = start + 1
            while end < problems.count, problems[end].caseIndex == problems[start].caseIndex { end += 1 }
            let run = Array(problems[start..<end])
            if let joint = Problem.joint(run) { result.append(joint) } else { result += run }
            start = end
        }
        return result
    }

    /// The ReLU search of one problem. A short search comes first: most problems of shallow
    /// networks fall to it, and LP tightening of every unstable neuron would cost them more than
    /// the search (mnistfc 256x2 prop_5_0.03: 7 s without, 34 s with). A problem still open then
    /// gets its bounds LP-tightened (which deep networks need: 256x4 prop_0_0.03 is unsat in 108 s
    /// with it and open at 120 s without) and the search starts again from them.
    private static func reluSearch(network: Network, specification: Specification, problem: inout Problem,
                                   options: SearchOptions, threads: Int, deadline: ContinuousClock.Instant,
                                   propagator: BoundPropagator, mayTighten: Bool) -> (SearchOutcome, SearchStatistics) {
        let start = ContinuousClock.now
        let tighten = mayTighten && options.rootTighteningShare > 0 && options.lpAtNodes && !options.lpsKnownTooSlow
            && problem.refinedBounds == nil
        let quickDeadline = tighten ? min(deadline, start + (deadline - start) * options.quickSearchShare) : deadline
        var (outcome, stats) = ReLUSearch.run(network: network, specification: specification, problem: problem,
                                              options: options, threads: threads, deadline: quickDeadline,
                                              propagator: propagator)
        guard case .timeout = outcome, quickDeadline < deadline else { return (outcome, stats) }
        var rest = options
        if stats.ownBoundsUnproductive > 0 { rest.ownBoundsKnownUnproductive = true }
        let lpsAddLittle = stats.lpUnproductive > 0
            || RefutationTally(checks: stats.innerLPChecks, refutations: stats.innerLPRefutations)
                .fallsShort(of: options.innerLPMinimumRefutationRate, after: 8)
        if stats.lpAbandoned > 0 || lpsAddLittle {
            // LPs too slow for the nodes are too slow to tighten every unstable neuron as well; the
            // rest of the search keeps them for leaves from the start. So do LPs that rarely
            // refute what the split multipliers left open: the nodes are worth more than the
            // tightening (mnistfc 256x4 prop_0_0.03, one thread: unsat in 18.7 s without it,
            // 30.9 s with; prop_3_0.03, 60 s: 1,178 conflicts without, 712 with).
            rest.lpAtNodes = false
            // LPs that ran past their budget are as slow in stabilization, which LP-tightens a
            // few dozen neurons per round: cifar10_resnet resnet_4b prop_0_eps_0.004 (two
            // threads, 300 s) spent 51 s in four rounds that proved nothing.
            if stats.lpAbandoned > 0 { rest.lpsKnownTooSlow = true }
        } else {
            let clock = Stopwatch()
            options.progress?.update { $0.stage = .tightening }
            defer { options.progress?.update { $0.stage = .searching } }
            let now = ContinuousClock.now
            let theory = Theory(network: network, problem: problem, propagator: propagator)
            let tightening = theory.tightenRoot(deadline: now + (deadline - now) * options.rootTighteningShare,
                                                lpCalls: &stats.lpCalls)
            stats.stabilizations += 1
            stats.stabilizeSeconds += clock.seconds
            if tightening.refuted { return (.refuted, stats) }
            problem.refinedBounds = tightening.bounds
        }
        let (again, more) = ReLUSearch.run(network: network, specification: specification, problem: problem,
                                           options: rest, threads: threads, deadline: deadline, propagator: propagator)
        stats.merge(more)
        return (again, stats)
    }
}
