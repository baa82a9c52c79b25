import Dispatch
import LPAbstraction
import Network
import VNNLib

/// Branch and bound over input sub-boxes, for networks with few inputs (ACAS Xu has 5).
///
/// Each sub-box is bounded (symbolic bounds); if that does not refute it, its centre is tried as a
/// counterexample, and the box is split in two along the dimension whose split helps the bounds
/// most. A box with few unstable ReLUs goes to the ReLU search (`Solve.swift`), which settles it
/// exactly (its LP checks the whole conjunction, which bounds on each constraint cannot). Workers go
/// depth-first on their own stacks and donate their oldest (largest) box when another is idle.
enum InputSplitting {
    struct Task: Sendable {
        var box: Box
        var depth: Int
        /// The box's evaluation when the split heuristic already computed it.
        var evaluation: Theory.Evaluation?
    }

    /// Searches `problem` by input splitting with `threads` workers.
    static func run(network: Network, specification: Specification, problem: Problem, options: SearchOptions,
                    threads: Int, deadline: ContinuousClock.Instant,
                    propagator: BoundPropagator) -> (SearchOutcome, SearchStatistics) {
        let pool = WorkPool<Task>()
        pool.push(Task(box: problem.box, depth: 0, evaluation: nil))
        let results = ResultCollector()
        DispatchQueue.concurrentPerform(iterations: max(1, threads)) { _ in
            var worker = Worker(network: network, specification: specification, problem: problem,
                                options: options, deadline: deadline, propagator: propagator)
            while let first = pool.next() {
                var stack = [first]
                while let task = stack.popLast() {
                    if pool.isStopped { break }
                    if ContinuousClock.now >= deadline {
                        results.record(.timeout)
                        pool.stop()
                        break
                    }
                    switch worker.process(task) {
                    case .done(let outcome):
                        results.record(outcome)
                        switch outcome {
                        case .counterexample, .timeout: pool.stop()
                        case .refuted, .unknown: break
                        }
                    case .split(let children):
                        stack.append(contentsOf: children.reversed())
                    }
                    if stack.count >= 2, pool.isHungry { pool.push(stack.removeFirst()) }
                }
                pool.finish()
            }
            results.add(worker.stats)
        }
        return (results.outcome, results.statistics)
    }

    enum Step {
        case done(SearchOutcome)
        /// Children to search, first one first.
        case split([Task])
    }

    /// One thread's share of the input-splitting search (owns its LP).
    struct Worker {
        let network: Network
        let specification: Specification
        let problem: Problem
        let options: SearchOptions
        let deadline: ContinuousClock.Instant
        let propagator: BoundPropagator
        let theory: Theory
        let checker: CounterexampleChecker
        let falsifier: Falsifier
        var stats = SearchStatistics()
        /// Forward/backward passes for the smear heuristic.
        let gradient: NetworkGradient
        /// The output coefficients whose gradient the smear heuristic follows when no constraint
        /// stands out.
        let smearSeed: [Double]

        init(network: Network, specification: Specification, problem: Problem, options: SearchOptions,
             deadline: ContinuousClock.Instant, propagator: BoundPropagator) {
            self.network = network
            self.specification = specification
            self.problem = problem
            self.options = options
            self.deadline = deadline
            self.propagator = propagator
            theory = Theory(network: network, problem: problem, propagator: propagator)
            checker = CounterexampleChecker(network: network, specification: specification)
            falsifier = Falsifier(network: network, specification: specification, options: FalsificationOptions(seed: options.seed))
            gradient = NetworkGradient(network: network)
            var seed = [Double](repeating: 0, count: network.outputSize)
            for c in problem.outputConstraints {
                for j in seed.indices { seed[j] += c.coefficients[j] }
            }
            smearSeed = seed
        }

        mutating func process(_ task: Task) -> Step {
            stats.nodes += 1
            options.progress?.countNode()
            let box = task.box
            let evaluation: Theory.Evaluation
            if let e = task.evaluation {
                evaluation = e
            } else {
                let clock = Stopwatch()
                evaluation = theory.evaluate(box: box, assignment: nil)
                stats.propagateSeconds += clock.seconds
            }
            if evaluation.refuted { return .done(.refuted) }

            if let ce = trySamples(in: box) { return .done(.counterexample(ce)) }
            if task.depth <= options.attackDepth {
                // Falsification throughout: a short gradient attack from the centre of each of the
                // first boxes spreads attacks over the region (sat ACAS Xu properties hide in
                // corners that the up-front attack can miss).
                let clock = Stopwatch()
                let centre = zip(box.lower, box.upper).map { ($0 + $1) / 2 }
                let found = falsifier.tryPoint(centre, caseIndex: problem.caseIndex,
                                               deadline: min(deadline, ContinuousClock.now + .milliseconds(100)))
                stats.falsifySeconds += clock.seconds
                if let found { return .done(.counterexample(found)) }
            }

            let unstable = evaluation.bounds.unstableCount
            if unstable <= options.inputSplitReLUSearchMaxUnstable
                || (unstable <= options.inputSplitDeepReLUSearchMaxUnstable && task.depth >= options.inputSplitDeepDepth)
                || isTooSmall(box) {
                return .done(searchReLUs(in: box))
            }
            let clock = Stopwatch()
            defer { stats.decideSeconds += clock.seconds }
            stats.inputSplits += 1
            return .split(split(box, depth: task.depth, focus: evaluation.focusConstraint))
        }

        /// Tries the centre of a box and ``SearchOptions/samplesPerBox`` points drawn in it like
        /// the falsifier's (corners, faces, uniform; the stream is seeded by the box, so the
        /// search does not depend on which worker gets it). A box the bounds cannot refute is
        /// where a violation may be, and as boxes shrink around one it fills more of them: ACAS
        /// Xu 2_9 prop_8 has one violating point in 3,000 of its box. Each point costs one fast
        /// forward pass, a thousandth of the box's bounds; the full checker runs only when the
        /// conjunction's output constraints (relaxed as in ``Problem``) hold there, so this never
        /// rejects a point the checker would accept.
        mutating func trySamples(in box: Box) -> Counterexample? {
            let clock = Stopwatch()
            defer { stats.falsifySeconds += clock.seconds }
            var generator = SplitMix64(seed: box.lower.reduce(options.seed) { ($0 &* 0x100_0000_01B3) ^ $1.bitPattern }
                                       ^ box.upper.reduce(0) { ($0 &* 0x100_0000_01B3) ^ $1.bitPattern })
            var point: [Double] = []
            var g = gradient
            for index in 0...options.samplesPerBox {
                Falsifier.samplePoint(index, lower: box.lower, upper: box.upper, generator: &generator, into: &point)
                g.forward(point)
                var holds = true
                for c in problem.outputConstraints {
                    var s = -c.rhs
                    for j in c.coefficients.indices where c.coefficients[j] != 0 { s += c.coefficients[j] * g.output(j) }
                    if s > 1e-9 * max(1, abs(c.rhs)) { holds = false; break }
                }
                if holds, let ce = checker.check(point, caseIndex: problem.caseIndex) { return ce }
            }
            return nil
        }

        func isTooSmall(_ box: Box) -> Bool {
            box.lower.indices.allSatisfy { i in
                box.upper[i] - box.lower[i] <= options.minimumRelativeWidth * max(1, abs(box.lower[i]), abs(box.upper[i]))
            }
        }

        /// The exact ReLU search on one sub-box (single-threaded: the pool parallelises boxes).
        mutating func searchReLUs(in box: Box) -> SearchOutcome {
            var sub = problem
            sub.box = box
            // Clauses hold for the box they were learned in: a sub-box starts with none of its own.
            sub.learnedClauses = SharedClauseStore()
            // Small searches whose LPs refute much of what the bounds leave open: frequent
            // restarts pay, and judging with an ancestor's bounds first mostly doubles the bound
            // work of the open nodes (ACAS Xu 4_2 prop_2, two threads: unsat in 22.3 s without,
            // 52.8 s with).
            var boxOptions = options
            boxOptions.restartBase = options.inputBoxRestartBase
            boxOptions.boundsFromParentFirst = false
            boxOptions.branchingDepthDecay = 1
            let state = SolverState(network: network, problem: sub, specification: specification, options: boxOptions,
                                    deadline: deadline, propagator: propagator, pool: nil)
            let outcome = state.solve(cube: [])
            stats.merge(state.stats)
            return outcome
        }

        /// Splits at the midpoint of one dimension. With few dimensions, every dimension is tried
        /// and the one whose worse child has the largest margin wins (the children's evaluations
        /// are kept); otherwise by smear (gradient × width) of the constraint closest to refutation (`focus`).
        mutating func split(_ box: Box, depth: Int, focus: Int) -> [Task] {
            let d = box.dimension
            func halves(_ i: Int) -> (Box, Box) {
                let mid = box.lower[i] + (box.upper[i] - box.lower[i]) / 2
                var left = box, right = box
                left.upper[i] = mid
                right.lower[i] = mid
                return (left, right)
            }
            let widths = (0..<d).map { i -> Double in
                let root = problem.box.upper[i] - problem.box.lower[i]
                return root > 0 ? (box.upper[i] - box.lower[i]) / root : 0
            }
            if d <= options.bestBoundSplitMaxDimension {
                var best: (score: Double, width: Double, tasks: [Task])?
                for i in 0..<d where widths[i] > 0 && box.upper[i] > box.lower[i] {
                    let (l, r) = halves(i)
                    let el = theory.evaluate(box: l, assignment: nil)
                    let er = theory.evaluate(box: r, assignment: nil)
                    func score(_ e: Theory.Evaluation) -> Double { e.refuted ? .infinity : e.bestMargin }
                    let s = min(score(el), score(er))
                    if best == nil || s > best!.score || (s == best!.score && widths[i] > best!.width) {
                        // Search the child closer to a counterexample first.
                        let first = score(el) <= score(er)
                        let tl = Task(box: l, depth: depth + 1, evaluation: el)
                        let tr = Task(box: r, depth: depth + 1, evaluation: er)
                        best = (s, widths[i], first ? [tl, tr] : [tr, tl])
                    }
                }
                if let best { return best.tasks }
            }
            // Smear (nnenum / Reluplex): the objective's gradient at the centre times the width,
            // with a little of the plain width so flat (all-dead) spots still get split.
            var g = gradient
            let centre = zip(box.lower, box.upper).map { ($0 + $1) / 2 }
            g.forward(centre)
            var grad: [Double] = []
            let seed = problem.outputConstraints.indices.contains(focus) ? problem.outputConstraints[focus].coefficients : smearSeed
            g.backward(outputSeed: seed, into: &grad)
            let meanGradient = grad.map(abs).reduce(0, +) / Double(max(d, 1))
            let scores = (0..<d).map { i in (abs(grad[i]) + 0.1 * meanGradient + 1e-12) * (box.upper[i] - box.lower[i]) }
            let i = scores.indices.max { scores[$0] < scores[$1] } ?? 0
            let (l, r) = halves(i)
            return [Task(box: l, depth: depth + 1, evaluation: nil), Task(box: r, depth: depth + 1, evaluation: nil)]
        }
    }
}
