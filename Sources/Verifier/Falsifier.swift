import Foundation
import Network
import VNNLib

/// Budgets and seed for the ``Falsifier``.
public struct FalsificationOptions: Sendable {
    /// Seed of the pseudo-random generator; the same seed gives the same search.
    public var seed: UInt64
    /// Random points tried per case (the first is the box center, some are box corners).
    public var randomSamples: Int
    /// Gradient-descent starts per objective (one objective per conjunction of each case).
    public var pgdRestarts: Int
    /// Sign-gradient steps per start (doubled on each repetition, up to eight times as many).
    public var pgdSteps: Int
    /// Whether ``Falsifier/run(deadline:)`` repeats the whole budget with fresh random points
    /// until the deadline (`true`), or stops once it is spent (`false`, for a bounded attack).
    public var repeatsUntilDeadline: Bool

    /// Creates options; the defaults suit an attack bounded by its deadline.
    public init(seed: UInt64 = 0, randomSamples: Int = 1000, pgdRestarts: Int = 10, pgdSteps: Int = 50,
                repeatsUntilDeadline: Bool = true) {
        self.seed = seed
        self.randomSamples = randomSamples
        self.pgdRestarts = pgdRestarts
        self.pgdSteps = pgdSteps
        self.repeatsUntilDeadline = repeatsUntilDeadline
    }
}

/// Looks for counterexamples by attacking the network: random sampling, then projected gradient
/// descent (PGD) on each conjunction's slack inside each case's box.
///
/// Incomplete by nature — it never proves anything — but cheap, and most `sat` instances fall to
/// it long before a complete search would get there. Every point it reports passed
/// ``CounterexampleChecker``; the gradient engine it uses internally is only a guide.
public struct Falsifier: Sendable {
    /// The network under attack.
    public let network: Network
    /// The property whose violation is sought.
    public let specification: Specification
    /// Budgets and seed.
    public let options: FalsificationOptions
    /// The gate every candidate must pass.
    public let checker: CounterexampleChecker
    /// What PGD attacks: per case, one objective for the whole disjunction (when it has several
    /// conjunctions) and one per conjunction, in specification order.
    private let objectives: [Objective]
    /// Whether network and specification agree on the numbers of inputs and outputs.
    private let isCompatible: Bool

    /// Creates a falsifier; nothing is computed until ``run(deadline:)`` or ``tryPoint(_:caseIndex:deadline:)``.
    public init(network: Network, specification: Specification, options: FalsificationOptions = .init()) {
        self.network = network
        self.specification = specification
        self.options = options
        checker = CounterexampleChecker(network: network, specification: specification)
        isCompatible = network.inputSize == specification.inputCount && network.outputSize == specification.outputCount
        var objectives: [Objective] = []
        if isCompatible {
            for (c, box) in specification.cases.enumerated() {
                let conjunctions = box.violation.map { $0.map { CompiledConstraint($0) } }
                // A robustness property is a disjunction of "class k beats the true class";
                // attacking the best of them at every step (a margin loss) usually beats
                // attacking each one separately, which remains as a fallback.
                if conjunctions.count > 1 {
                    objectives.append(Objective(caseIndex: c, conjunctions: conjunctions))
                }
                for conjunction in conjunctions {
                    objectives.append(Objective(caseIndex: c, conjunctions: [conjunction]))
                }
            }
        }
        self.objectives = objectives
    }

    /// Random sampling in every case's box and PGD for every objective, interleaved.
    ///
    /// One pass of the budget is split into ``FalsificationOptions/pgdRestarts`` rounds; each
    /// round draws its share of the random samples, then runs one PGD start per objective, most
    /// promising first. Interleaving gets gradient descent going early on large networks, where a
    /// thousand samples alone could use up a short deadline. Passes repeat with fresh points and
    /// longer descents until `deadline` (unless ``FalsificationOptions/repeatsUntilDeadline`` is
    /// off). Returns the first checked counterexample, or `nil` when time or budget runs out.
    /// Deterministic for a given seed (up to where the deadline cuts it off).
    public func run(deadline: ContinuousClock.Instant) -> Counterexample? {
        guard isCompatible, !objectives.isEmpty else { return nil }
        var state = SearchState(network: network)
        let cases = specification.cases
        let objectivesOfCase = Dictionary(grouping: objectives.indices, by: { objectives[$0].caseIndex })
        var generators = cases.indices.map { SplitMix64(seed: Self.streamSeed(options.seed, 1, $0, 0)) }
        // The best sampled point per objective seeds a PGD start whenever it is new.
        var best = objectives.map { _ in (loss: Double.infinity, point: [Double](), isNew: false) }
        var point: [Double] = []
        var samplesDrawn = 0
        let samplesPerPass = max(0, options.randomSamples)
        let rounds = max(1, options.pgdRestarts)
        guard samplesPerPass > 0 || options.pgdRestarts > 0 else { return nil }

        for pass in 0... {
            if pass > 0, !options.repeatsUntilDeadline { return nil }
            // Later passes give each start more steps: what the short runs missed may need a
            // longer descent rather than yet another start.
            let steps = options.pgdSteps << min(pass, 3)
            for round in 0..<rounds {
                // Sampling, round-robin over the cases so that a short deadline still touches every box.
                let target = samplesPerPass * pass + samplesPerPass * (round + 1) / rounds
                while samplesDrawn < target {
                    for c in cases.indices {
                        guard let indices = objectivesOfCase[c] else { continue }
                        if ContinuousClock.now >= deadline { return nil }
                        Self.samplePoint(samplesDrawn, lower: cases[c].lower, upper: cases[c].upper,
                                         generator: &generators[c], into: &point)
                        state.engine.forward(point)
                        for o in indices {
                            let loss = evaluate(objectives[o], at: point, state: &state)
                            if loss.isCandidate, let found = checker.check(point, caseIndex: c) { return found }
                            if loss.value < best[o].loss { best[o] = (loss.value, point, true) }
                        }
                    }
                    samplesDrawn += 1
                }
                guard round < options.pgdRestarts else { break }

                let order = objectives.indices.sorted { (best[$0].loss, $0) < (best[$1].loss, $1) }
                for o in order {
                    if ContinuousClock.now >= deadline { return nil }
                    let objective = objectives[o]
                    let box = cases[objective.caseIndex]
                    if best[o].isNew {
                        point = best[o].point
                        best[o].isNew = false
                    } else {
                        var generator = SplitMix64(seed: Self.streamSeed(options.seed, 2 + UInt64(pass), o, round))
                        Self.uniformPoint(lower: box.lower, upper: box.upper, generator: &generator, into: &point)
                    }
                    // Vary step size and loss across rounds: large steps explore, small ones refine,
                    // and the two losses fail in different ways on multi-constraint conjunctions.
                    // A step of the whole width jumps from corner to corner (FGSM-like): some
                    // networks are flat inside the box and change only near its corners (mnistfc
                    // 256x4 prop_1_0.05: of 500 starts with 50 steps, none finds a violation with
                    // steps of a tenth of the width, 0.6 % with a quarter, 99 % with a half).
                    let initialStep = [0.1, 1.0, 0.03, 0.3][round % 4]
                    let loss: Loss = round % 2 == 0 ? .maximum : .sumOfViolations
                    if let found = descend(objective, from: point, steps: steps, initialStep: initialStep,
                                           loss: loss, state: &state, deadline: deadline) {
                        return found
                    }
                }
            }
        }
        return nil
    }

    /// Tries a single candidate (e.g. an LP optimum of the search), then a few PGD steps from it
    /// for each objective of the case.
    ///
    /// The candidate is first checked as it is (see ``CounterexampleChecker/check(_:caseIndex:)``);
    /// the descent starts from its projection onto the box.
    public func tryPoint(_ input: [Double], caseIndex: Int, deadline: ContinuousClock.Instant) -> Counterexample? {
        if let found = checker.check(input, caseIndex: caseIndex) { return found }
        guard isCompatible, specification.cases.indices.contains(caseIndex), input.count == network.inputSize,
              !input.contains(where: { $0.isNaN }) else { return nil }
        let box = specification.cases[caseIndex]
        let start = zip(input, zip(box.lower, box.upper)).map { min(max($0, $1.0), $1.1) }
        var state = SearchState(network: network)
        state.engine.forward(start)
        // Most violated objective first: the LP point usually targets one of them.
        var candidates: [(objective: Objective, loss: Double, index: Int)] = []
        for (index, objective) in objectives.enumerated() where objective.caseIndex == caseIndex {
            candidates.append((objective, evaluate(objective, at: start, state: &state).value, index))
        }
        candidates.sort { ($0.loss, $0.index) < ($1.loss, $1.index) }
        let steps = max(10, options.pgdSteps / 2)
        for (rank, candidate) in candidates.enumerated() {
            if ContinuousClock.now >= deadline { return nil }
            // The start is already close to a violation: small steps polish it rather than
            // jumping away from it.
            if let found = descend(candidate.objective, from: start, steps: steps, initialStep: 0.02,
                                   loss: rank % 2 == 0 ? .maximum : .sumOfViolations,
                                   state: &state, deadline: deadline) {
                return found
            }
        }
        return nil
    }

    // MARK: Descent

    /// What PGD minimises for the conjunction it currently targets (the objective's conjunction
    /// with the smallest largest slack).
    private enum Loss {
        /// The largest slack: drives the worst constraint down; exact for single constraints.
        case maximum
        /// The sum of the slacks still above their margin: moves all unmet constraints at once.
        case sumOfViolations
    }

    /// Sign-gradient descent on `loss` from `start`, projected onto the objective's box, with a
    /// cosine-decaying step (a fraction of each coordinate's width). Every iterate at which some
    /// conjunction's `Double` slacks all meet their margins is handed to the checker.
    private func descend(_ objective: Objective, from start: [Double], steps: Int, initialStep: Double, loss: Loss,
                         state: inout SearchState, deadline: ContinuousClock.Instant) -> Counterexample? {
        let box = specification.cases[objective.caseIndex]
        let lower = box.lower, upper = box.upper
        let n = network.inputSize
        let m = network.outputSize
        state.x = start
        if state.seed.count != m { state.seed = [Double](repeating: 0, count: m) }
        let minimumStep = initialStep / 100
        for t in 0...max(0, steps) {
            if ContinuousClock.now >= deadline { return nil }
            state.engine.forward(state.x)
            let status = evaluate(objective, at: state.x, state: &state)
            if status.isCandidate, let found = checker.check(state.x, caseIndex: objective.caseIndex) { return found }
            if t == steps { break }
            guard !objective.conjunctions[status.target].isEmpty else { break }
            let conjunction = objective.conjunctions[status.target]

            // Seed the backward pass with the coefficients of the constraints the loss selects.
            // With every constraint met (a candidate the checker rejected, e.g. on Float) the sum
            // is flat: then push the worst constraint deeper instead.
            for j in 0..<m { state.seed[j] = 0 }
            var useSum = false
            if case .sumOfViolations = loss {
                for (k, constraint) in conjunction.enumerated() where !state.isMet(k) {
                    constraint.addOutputCoefficients(to: &state.seed)
                    useSum = true
                }
            }
            if !useSum { conjunction[status.worst].addOutputCoefficients(to: &state.seed) }
            state.engine.backward(outputSeed: state.seed, into: &state.gradient)
            if useSum {
                for (k, constraint) in conjunction.enumerated() where !state.isMet(k) {
                    constraint.addInputCoefficients(to: &state.gradient)
                }
            } else {
                conjunction[status.worst].addInputCoefficients(to: &state.gradient)
            }

            let progress = Double(t) / Double(max(1, steps))
            let fraction = minimumStep + (initialStep - minimumStep) * 0.5 * (1 + cos(Double.pi * progress))
            for i in 0..<n {
                let g = state.gradient[i]
                if g == 0 { continue }
                let width = upper[i] - lower[i]
                let moved = state.x[i] - (g > 0 ? fraction * width : -fraction * width)
                state.x[i] = min(max(moved, lower[i]), upper[i])
            }
        }
        return nil
    }

    /// Scores an objective at the point of the last forward pass.
    ///
    /// - Returns: `value`, the smallest over its conjunctions of the largest slack (≤ 0 means
    ///   violated); `target`, the conjunction attaining it; `worst`, that conjunction's
    ///   constraint with the largest slack; `isCandidate`, whether some conjunction meets every
    ///   margin. Leaves the target conjunction's slacks and margins in `state` for the descent.
    private func evaluate(_ objective: Objective, at point: [Double], state: inout SearchState)
        -> (value: Double, target: Int, worst: Int, isCandidate: Bool) {
        var best = (value: Double.infinity, target: 0, worst: 0, isCandidate: false)
        for (d, conjunction) in objective.conjunctions.enumerated() {
            var largest = -Double.infinity
            var worst = 0
            var met = true
            for (k, constraint) in conjunction.enumerated() {
                let (slack, margin) = constraint.slackAndMargin(inputs: point, engine: state.engine,
                                                                relativeMargin: checker.relativeMargin)
                if !(slack <= -margin) { met = false }
                // NaN outputs rank last.
                let score = slack.isNaN ? Double.infinity : slack
                if score > largest || k == 0 { largest = score; worst = k }
            }
            if met { best.isCandidate = true }
            if largest < best.value || d == 0 { best = (largest, d, worst, best.isCandidate) }
        }
        // Only the target conjunction matters to the descent step; recompute its margins there.
        let target = objective.conjunctions[best.target]
        state.recordMargins(of: target, inputs: point, relativeMargin: checker.relativeMargin)
        return best
    }

    // MARK: Sampling

    /// Sample `index` of a case: the center first, then a box corner every eighth sample, a point
    /// on a face of the box every other sample (each coordinate at its lower or upper end with
    /// probability 1/5 each, uniform otherwise), uniform otherwise. ReLU networks are piecewise
    /// linear, so extremes are often reached on the boundary: on ACAS Xu 1_9 prop_7 one uniform
    /// point in a million violates the property and 650 face points in a million do.
    static func samplePoint(_ index: Int, lower: [Double], upper: [Double],
                            generator: inout SplitMix64, into point: inout [Double]) {
        if point.count != lower.count { point = [Double](repeating: 0, count: lower.count) }
        if index == 0 {
            for i in point.indices { point[i] = lower[i] + 0.5 * (upper[i] - lower[i]) }
        } else if index % 8 == 1 {
            for i in point.indices { point[i] = generator.next() & 1 == 0 ? lower[i] : upper[i] }
        } else {
            uniformPoint(lower: lower, upper: upper, generator: &generator, into: &point)
            if index % 2 == 0 {
                for i in point.indices {
                    let r = generator.nextUnit()
                    if r < 0.2 { point[i] = lower[i] } else if r < 0.4 { point[i] = upper[i] }
                }
            }
        }
    }

    /// A point drawn uniformly from the box.
    private static func uniformPoint(lower: [Double], upper: [Double], generator: inout SplitMix64, into point: inout [Double]) {
        if point.count != lower.count { point = [Double](repeating: 0, count: lower.count) }
        for i in point.indices {
            let value = lower[i] + generator.nextUnit() * (upper[i] - lower[i])
            point[i] = min(max(value, lower[i]), upper[i])
        }
    }

    /// A seed for an independent stream, so each phase, case and restart draws the same numbers
    /// whatever the deadline cut short before it.
    private static func streamSeed(_ seed: UInt64, _ phase: UInt64, _ a: Int, _ b: Int) -> UInt64 {
        var mixer = SplitMix64(seed: seed ^ (phase &* 0x9E37_79B9_7F4A_7C15))
        var value = mixer.next() ^ UInt64(truncatingIfNeeded: a)
        mixer = SplitMix64(seed: value)
        value = mixer.next() ^ UInt64(truncatingIfNeeded: b)
        mixer = SplitMix64(seed: value)
        return mixer.next()
    }
}

// MARK: - Support types

/// What one PGD run attacks: the case's box and one or more of its conjunctions (any of them
/// violated is a counterexample).
private struct Objective: Sendable {
    var caseIndex: Int
    var conjunctions: [[CompiledConstraint]]
}

/// A ``LinearConstraint`` split into input and output terms for fast evaluation against the
/// gradient engine's buffers.
private struct CompiledConstraint: Sendable {
    var inputTerms: [(index: Int, coefficient: Double)] = []
    var outputTerms: [(index: Int, coefficient: Double)] = []
    var bound: Double

    init(_ constraint: LinearConstraint) {
        bound = constraint.bound
        for term in constraint.terms {
            switch term.variable {
            case .input(let i): inputTerms.append((i, term.coefficient))
            case .output(let j): outputTerms.append((j, term.coefficient))
            }
        }
    }

    /// The slack `Σ c·v - bound` at `inputs` and the engine's last outputs, and the margin the
    /// checker will demand (same formula as ``CounterexampleChecker``).
    @inline(__always)
    func slackAndMargin(inputs: [Double], engine: NetworkGradient, relativeMargin: Double) -> (Double, Double) {
        var slack = -bound
        var magnitude = 0.0
        for term in inputTerms {
            let product = term.coefficient * inputs[term.index]
            slack += product
            magnitude += abs(product)
        }
        for term in outputTerms {
            let product = term.coefficient * engine.output(term.index)
            slack += product
            magnitude += abs(product)
        }
        return (slack, relativeMargin * max(1, abs(bound), magnitude))
    }

    func addOutputCoefficients(to seed: inout [Double]) {
        for term in outputTerms { seed[term.index] += term.coefficient }
    }

    func addInputCoefficients(to gradient: inout [Double]) {
        for term in inputTerms { gradient[term.index] += term.coefficient }
    }
}

/// Buffers reused across all forward and backward passes of one search.
private struct SearchState {
    var engine: NetworkGradient
    var x: [Double] = []
    var gradient: [Double] = []
    var seed: [Double] = []
    /// Whether each constraint of the targeted conjunction meets its margin.
    private var met: [Bool] = []

    init(network: Network) {
        engine = NetworkGradient(network: network)
    }

    func isMet(_ k: Int) -> Bool { met[k] }

    mutating func recordMargins(of conjunction: [CompiledConstraint], inputs: [Double], relativeMargin: Double) {
        if met.count < conjunction.count { met = [Bool](repeating: false, count: conjunction.count) }
        for (k, constraint) in conjunction.enumerated() {
            let (slack, margin) = constraint.slackAndMargin(inputs: inputs, engine: engine, relativeMargin: relativeMargin)
            met[k] = slack <= -margin
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fully specified, so runs are
/// reproducible across platforms and Swift versions (the standard library's generators and
/// `random(in:)` algorithms are not guaranteed to be).
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `[0, 1)` with 53 random bits.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
