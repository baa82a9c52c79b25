import Foundation
import Network

/// The stability class of one ReLU neuron over an input box.
public enum NeuronStability: String, Sendable, Codable {
    /// Pre-activation ≥ 0 on the whole box, proved by sound bounds.
    case active
    /// Pre-activation ≤ 0 on the whole box, proved by sound bounds.
    case inactive
    /// Two witness inputs in the box: one with pre-activation rigorously > 0, one rigorously < 0.
    case unstable
    /// Not decided within the budget. Never treated as stable.
    case unknown
}

/// How hard ``StableNeuronDetector`` works.
public enum DetectorMode: String, Sendable, CaseIterable {
    /// Symbolic bounds, plus witnesses from sampling and gradient attacks.
    case fast
    /// `fast`, then LP bound tightening of every undecided neuron, layer by layer.
    case lp
    /// `lp`, then the whole-network refutation MILP and a sound branch-and-bound proof for every
    /// survivor, so every neuron is decided unless the deadline hits.
    case exact
    /// The earlier method, as a baseline to compare `exact` with: two big-M MILPs per undecided
    /// neuron (maximise and minimise its pre-activation), layer by layer, after symbolic bounds and
    /// per-layer LP tightening, without sampling (Tjeng et al. 2019; Serra et al. 2020). Sound like
    /// the other modes: a MILP's "stable" is re-proved by the sound branch-and-bound of `exact`.
    case perNeuronMILP = "baseline"
}

/// What a running ``StableNeuronDetector/classify(box:mode:deadline:seed:)`` has decided so far,
/// handed to ``StableNeuronDetector/Configuration/progress`` at each step and proof batch.
public struct DetectorProgress: Sendable, Equatable {
    /// The step now running: `bounds`, `sampling`, `attack`, `lp`, `milp` or `certify`.
    public var step: String
    /// Neurons proved stably active so far.
    public var active: Int
    /// Neurons proved stably inactive so far.
    public var inactive: Int
    /// Neurons with a witness of each sign.
    public var unstable: Int
    /// Neurons neither proved stable nor witnessed unstable yet.
    public var unknown: Int
    /// In the `certify` step: sound proofs not finished yet.
    public var openProofs = 0
    /// In the `certify` step: the round of doubling time slices (1 first).
    public var round = 0
}

/// The classification of every ReLU neuron of a network over an input box, with its evidence.
public struct StabilityReport: Sendable {
    /// `classes[layer][i]`, per ReLU layer (``Network/reluNodes`` order) and neuron.
    public var classes: [[NeuronStability]]
    /// The tightest sound bounds found (symbolic, tightened by LP where the mode allows).
    public var bounds: NetworkBounds
    /// Input points used as witnesses, each inside the box.
    public var witnesses: [[Double]]
    /// Index into ``witnesses`` of an input where the neuron's pre-activation is rigorously > 0.
    public var positiveWitness: [[Int?]]
    /// Index into ``witnesses`` of an input where the neuron's pre-activation is rigorously < 0.
    public var negativeWitness: [[Int?]]
    /// Seconds spent per step: `bounds`, `sampling`, `attack`, `lp`, `milp`, `certify`, `total`.
    public var seconds: [String: Double]

    /// Creates a report.
    public init(classes: [[NeuronStability]], bounds: NetworkBounds, witnesses: [[Double]],
                positiveWitness: [[Int?]], negativeWitness: [[Int?]], seconds: [String: Double]) {
        self.classes = classes
        self.bounds = bounds
        self.witnesses = witnesses
        self.positiveWitness = positiveWitness
        self.negativeWitness = negativeWitness
        self.seconds = seconds
    }

    /// The proved-stable neurons only (stably active / inactive), `nil` elsewhere: what exact
    /// compression may remove or fold.
    public var stablePhases: PhaseAssignment {
        PhaseAssignment(phases: classes.map { layer in
            layer.map { c -> Phase? in
                switch c {
                case .active: return .active
                case .inactive: return .inactive
                case .unstable, .unknown: return nil
                }
            }
        })
    }

    /// Number of neurons of class `stability` in ReLU layer `layer`.
    public func count(_ stability: NeuronStability, layer: Int) -> Int {
        classes[layer].reduce(0) { $0 + ($1 == stability ? 1 : 0) }
    }

    /// Number of neurons of class `stability` in the whole network.
    public func count(_ stability: NeuronStability) -> Int {
        classes.indices.reduce(0) { $0 + count(stability, layer: $1) }
    }
}

extension PhaseAssignment {
    /// An assignment with the given phases (`phases[layer][index]`).
    init(phases: [[Phase?]]) {
        self.phases = phases
    }
}

/// Classifies every ReLU neuron of a network over an input box as stably active, stably
/// inactive, unstable (with two witnesses) or unknown.
///
/// Soundness is the contract: *stable* is only ever concluded from sound bounds (interval and
/// symbolic bounds with outward rounding, LP values derived from the dual solution); *unstable*
/// only from two witness inputs whose pre-activation signs were established by an outward-rounded
/// enclosure at the point (``WitnessBook``). Sampling, gradient attacks and the MILP merely
/// propose points. A deadline leaves the undecided neurons `unknown`, never stable.
///
/// The steps, cheapest first, each only for the neurons still undecided:
/// 1. symbolic bounds (``BoundPropagator``);
/// 2. witnesses from the box's corners that maximise / minimise each first-layer neuron, uniform
///    random points and random vertices, then sign-gradient ascent / descent on each missing sign;
/// 3. (`lp`, `exact`) LP minimum / maximum per undecided neuron, layer by layer, the proved phases
///    fed back into the symbolic bounds of later layers and LP optimum points tried as witnesses;
/// 4. (`exact`) one MILP over the whole network maximising the number of refuted stability claims
///    (Serra et al., NeurIPS 2021), its solutions harvested as witnesses and the MILP re-solved
///    until it finds nothing more; then a sound branch-and-bound proof for every survivor
///    (``StabilityCertifier``).
///
/// The `baseline` mode (``DetectorMode/perNeuronMILP``) replaces steps 2–4 by the earlier method,
/// two MILPs per neuron, to measure what step 4 saves.
///
/// GLPK is used on the calling thread only; call from one thread at a time per detector run.
public struct StableNeuronDetector {
    /// Tuning knobs; the defaults suit networks of a few thousand inputs and neurons.
    public struct Configuration: Sendable {
        /// Uniform random points sampled from the box.
        public var randomSamples = 500
        /// Random vertices sampled (a third each with probability 0.1, 0.5, 0.9 of the upper face).
        public var vertexSamples = 600
        /// Sign-gradient steps per missing sign; 0 disables the attack.
        public var attackSteps = 30
        /// Whether to sample at all (tests switch it off to exercise the LP and MILP steps alone).
        public var sampling = true
        /// Margin `ε` the MILP demands for a refutation (`pre ≥ ε` or `≤ −ε`).
        public var milpMargin = 1e-6
        /// Fraction of the time left that the refutation MILP may use in exact mode.
        public var milpTimeShare = 0.1
        /// Fraction of the time left that LP bound tightening may use in exact mode: its bounds
        /// only sharpen the MILP's big-M constants and the proofs' triangles, which looser (still
        /// sound) bounds would serve too, so it must not starve the steps that decide neurons.
        public var lpTimeShare = 0.25
        /// Branch-and-bound nodes allowed per sound proof in exact mode (the time limit usually
        /// ends a proof first).
        public var certificationNodeLimit = 1_000_000
        /// Fraction of the time left that the first round of sound proofs shares out evenly among
        /// the proofs (each later round doubles the slice of the proofs still open).
        public var certificationFirstPassShare = 0.5
        /// Worker threads for the sound proofs of exact mode (each runs its own LPs).
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        /// Called on the classifying thread at the start of each step and after each batch of
        /// sound proofs, with the counts so far (for progress lines); it must return quickly.
        public var progress: (@Sendable (DetectorProgress) -> Void)?

        /// The default configuration.
        public init() {}
    }

    /// The network classified.
    public let network: Network
    /// Tuning knobs.
    public var configuration = Configuration()

    /// Creates a detector for a network (which must pass ``Network/validate()``).
    public init(network: Network) {
        self.network = network
    }

    /// Classifies every ReLU neuron over `box` in the given mode, stopping work at `deadline`
    /// (neurons not decided by then are `unknown`). `seed` makes sampling deterministic.
    public func classify(box: Box, mode: DetectorMode, deadline: ContinuousClock.Instant, seed: UInt64 = 0) -> StabilityReport {
        var run = DetectorRun(network: network, box: box, assignment: nil, configuration: configuration,
                              deadline: deadline, seed: seed)
        return run.classify(mode: mode)
    }

    /// Classifies every ReLU neuron over the region of `box` where the ReLUs fixed by
    /// `assignment` have their fixed phases (a node of a branch-and-bound search, a case split).
    ///
    /// The fixed neurons are reported in their fixed phase. Every witness lies in the region: its
    /// enclosure puts each fixed neuron rigorously in its phase. When the bounds prove the region
    /// empty, ``StabilityReport/bounds`` says so (``NetworkBounds/isInfeasible``) and every
    /// neuron not fixed is `unknown` (vacuously stable both ways, which no caller should act on).
    public func classify(box: Box, assignment: PhaseAssignment, mode: DetectorMode, deadline: ContinuousClock.Instant,
                         seed: UInt64 = 0) -> StabilityReport {
        var run = DetectorRun(network: network, box: box, assignment: assignment, configuration: configuration,
                              deadline: deadline, seed: seed)
        return run.classify(mode: mode)
    }
}

/// The mutable state of one ``StableNeuronDetector/classify(box:mode:deadline:seed:)`` call.
struct DetectorRun {
    let network: Network
    let box: Box
    let configuration: StableNeuronDetector.Configuration
    let deadline: ContinuousClock.Instant
    let propagator: BoundPropagator
    let reluNodes: [Int]
    let preActivationNodes: [Int]
    var rng: DetectorRandom
    var bounds: NetworkBounds
    /// Proved phases (stably active / inactive).
    var proved: PhaseAssignment
    var book: WitnessBook
    var seconds: [String: Double] = [:]

    init(network: Network, box: Box, assignment: PhaseAssignment?, configuration: StableNeuronDetector.Configuration,
         deadline: ContinuousClock.Instant, seed: UInt64) {
        precondition(box.dimension == network.inputSize, "box has \(box.dimension) dimensions, network has \(network.inputSize) inputs")
        self.network = network
        self.box = box
        self.configuration = configuration
        self.deadline = deadline
        propagator = BoundPropagator(network: network)
        reluNodes = network.reluNodes
        preActivationNodes = reluNodes.map { network.nodes[$0].inputs[0] }
        rng = DetectorRandom(seed: seed)
        bounds = NetworkBounds(preActivation: [], output: LayerBounds(lower: [], upper: []))
        book = WitnessBook(propagator: propagator, box: box, layerSizes: reluNodes.map { network.nodes[$0].size })
        // The fixed phases hold on the whole region by definition: they are "proved" from the
        // start, so every bound, LP, MILP and proof below works inside the region.
        proved = PhaseAssignment(network: network)
        if let assignment, assignment.fixedCount > 0 {
            precondition(assignment.phases.map(\.count) == proved.phases.map(\.count), "assignment does not fit the network")
            book.region = assignment
            for (l, layer) in assignment.phases.enumerated() {
                for (i, phase) in layer.enumerated() {
                    if let phase { prove(NeuronID(layer: l, index: i), phase) }
                }
            }
        }
    }

    var timeLeft: Bool { ContinuousClock.now < deadline }

    /// Times `body` under `key` in ``seconds``, telling ``StableNeuronDetector/Configuration/progress``
    /// that step `key` starts.
    mutating func timed(_ key: String, _ body: (inout DetectorRun) -> Void) {
        reportProgress(step: key)
        let start = ContinuousClock.now
        body(&self)
        let elapsed = ContinuousClock.now - start
        seconds[key, default: 0] += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    mutating func classify(mode: DetectorMode) -> StabilityReport {
        let start = ContinuousClock.now
        timed("bounds") { $0.computeBounds() }
        if bounds.isInfeasible {
            // The region is empty: nothing to classify (see classify(box:assignment:…)).
        } else if mode == .perNeuronMILP {
            classifyWithPerNeuronMILPs()   // times its own steps
        } else {
            if configuration.sampling {
                timed("sampling") { $0.sample() }
                if configuration.attackSteps > 0 { timed("attack") { $0.attack() } }
            }
            if mode != .fast { timed("lp") { $0.tightenWithLP(everyUnstable: mode == .exact) } }
            if mode == .exact {
                timed("milp") { $0.refuteWithMILP() }
                timed("certify") { $0.certifySurvivors() }
            }
        }
        let elapsed = ContinuousClock.now - start
        seconds["total"] = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return report()
    }

    /// Hands the counts so far to the configuration's progress callback, if any.
    func reportProgress(step: String, openProofs: Int = 0, round: Int = 0) {
        guard let progress = configuration.progress else { return }
        var counts = DetectorProgress(step: step, active: 0, inactive: 0, unstable: 0, unknown: 0,
                                      openProofs: openProofs, round: round)
        for (l, layer) in proved.phases.enumerated() {
            for (i, phase) in layer.enumerated() {
                switch phase {
                case .active?: counts.active += 1
                case .inactive?: counts.inactive += 1
                case nil:
                    if book.positive[l][i] != nil && book.negative[l][i] != nil { counts.unstable += 1 } else { counts.unknown += 1 }
                }
            }
        }
        progress(counts)
    }

    func report() -> StabilityReport {
        let classes = proved.phases.enumerated().map { l, layer in
            layer.enumerated().map { i, phase -> NeuronStability in
                switch phase {
                case .active?: return .active
                case .inactive?: return .inactive
                case nil: return book.positive[l][i] != nil && book.negative[l][i] != nil ? .unstable : .unknown
                }
            }
        }
        return StabilityReport(classes: classes, bounds: bounds, witnesses: book.points,
                               positiveWitness: book.positive, negativeWitness: book.negative, seconds: seconds)
    }

    // MARK: Bounds

    /// Symbolic bounds; every neuron they decide is proved, and wants no witness.
    mutating func computeBounds() {
        bounds = propagator.bounds(box: box, assignment: proved, method: .symbolic)
        if !bounds.isInfeasible { adoptStablePhases() }
    }

    /// Marks the neurons the current bounds prove stable, and stops looking for their witnesses.
    mutating func adoptStablePhases() {
        for (l, pre) in bounds.preActivation.enumerated() {
            for i in pre.lower.indices where proved.phases[l][i] == nil {
                if pre.lower[i] >= 0 {
                    prove(NeuronID(layer: l, index: i), .active)
                } else if pre.upper[i] <= 0 {
                    prove(NeuronID(layer: l, index: i), .inactive)
                }
            }
        }
    }

    mutating func prove(_ neuron: NeuronID, _ phase: Phase) {
        proved[neuron] = phase
        book.wantPositive[neuron.layer][neuron.index] = false
        book.wantNegative[neuron.layer][neuron.index] = false
    }

    /// Neurons still lacking a witness sign and not proved stable, in layer order.
    var undecided: [NeuronID] {
        var result: [NeuronID] = []
        for l in proved.phases.indices {
            for i in proved.phases[l].indices
            where proved.phases[l][i] == nil && (book.wantPositive[l][i] || book.wantNegative[l][i]) {
                result.append(NeuronID(layer: l, index: i))
            }
        }
        return result
    }

    // MARK: Sampling and attack

    /// Offers `x` to the witness book when a floating-point forward pass suggests it helps.
    mutating func offer(_ x: [Double], gradient: inout PreActivationGradient) {
        gradient.forward(x)
        if book.isPromising(gradient.preActivations) { book.record(x) }
    }

    /// Corner witnesses for the first ReLU layer (when it is a dense layer on the input), then
    /// uniform random points and random vertices.
    mutating func sample() {
        guard book.wantsAnything else { return }
        var gradient = PreActivationGradient(network: network)
        let n = box.dimension
        // For `w·x + b` over a box the maximiser is the vertex with `x_j = u_j` where `w_j > 0`:
        // exact extreme points, so a first layer needs no search at all.
        if let first = preActivationNodes.first, case .dense(let d) = network.nodes[first].operation,
           network.nodes[first].inputs[0] == 0 {
            for i in 0..<d.weights.rows where timeLeft {
                for positive in [true, false] where positive ? book.wantPositive[0][i] : book.wantNegative[0][i] {
                    let x = (0..<n).map { j -> Double in
                        let w = d.weights[i, j]
                        return (w > 0) == positive ? box.upper[j] : box.lower[j]
                    }
                    offer(x, gradient: &gradient)
                }
            }
        }
        offer((0..<n).map { 0.5 * (box.lower[$0] + box.upper[$0]) }, gradient: &gradient)
        for _ in 0..<configuration.randomSamples {
            guard book.wantsAnything, timeLeft else { return }
            let x = (0..<n).map { box.lower[$0] + (box.upper[$0] - box.lower[$0]) * rng.nextUnit() }
            offer(x, gradient: &gradient)
        }
        let probabilities = [0.1, 0.5, 0.9]
        for s in 0..<configuration.vertexSamples {
            guard book.wantsAnything, timeLeft else { return }
            let p = probabilities[s % 3]
            let x = (0..<n).map { rng.nextUnit() < p ? box.upper[$0] : box.lower[$0] }
            offer(x, gradient: &gradient)
        }
    }

    /// Projected sign-gradient ascent (or descent) on each missing sign's pre-activation, from a
    /// random point of the box; every point on the way that shows the wanted sign in floating
    /// point is checked rigorously.
    mutating func attack() {
        var gradient = PreActivationGradient(network: network)
        let n = box.dimension
        let width = (0..<n).map { box.upper[$0] - box.lower[$0] }
        for neuron in undecided {
            for positive in [true, false] {
                guard timeLeft else { return }
                let (l, i) = (neuron.layer, neuron.index)
                guard positive ? book.wantPositive[l][i] : book.wantNegative[l][i] else { continue }
                let direction = positive ? 1.0 : -1.0
                var x = (0..<n).map { box.lower[$0] + width[$0] * rng.nextUnit() }
                var decay = 1.0
                for step in 0..<configuration.attackSteps {
                    gradient.forward(x)
                    let v = gradient.preActivation(layer: l, index: i)
                    if direction * v > 0 {
                        book.record(x)
                        if !(positive ? book.wantPositive[l][i] : book.wantNegative[l][i]) { break }
                    }
                    let g = gradient.gradient(layer: l, index: i)
                    // Large first steps reach the vertex the local linear piece favours; smaller
                    // ones then refine across the kinks.
                    let alpha = step == 0 ? 1.0 : 0.5 * decay
                    decay *= 0.85
                    for j in 0..<n where g[j] != 0 {
                        let moved = x[j] + direction * alpha * width[j] * (g[j] > 0 ? 1 : -1)
                        x[j] = Swift.min(Swift.max(moved, box.lower[j]), box.upper[j])
                    }
                }
                gradient.forward(x)
                if book.isPromising(gradient.preActivations) { book.record(x) }
            }
        }
    }

    // MARK: LP tightening

    /// LP minimum / maximum of every undecided neuron, layer by layer. A sound LP bound past 0
    /// proves the neuron stable; any LP value tightens its bounds; the LP's optimum point is
    /// offered as a witness. Proved phases are fixed before the next layer's bounds are
    /// recomputed, so later layers see exact linear pieces instead of triangles.
    ///
    /// With `everyUnstable` (exact mode) the unstable neurons of the layers before the last
    /// undecided one are tightened too: the MILP's big-M constants and the proofs' triangles are
    /// only as good as those bounds. Those LPs buy tightness, not soundness (looser bounds are just
    /// as valid), so in exact mode the whole step runs under ``StableNeuronDetector/Configuration/lpTimeShare``
    /// of the time left, and within a layer the undecided neurons come first (their LPs may prove
    /// them stable), then the witnessed-unstable ones, widest triangle first.
    mutating func tightenWithLP(everyUnstable: Bool) {
        guard let lastLayer = undecided.map(\.layer).max(), timeLeft else { return }
        let lpDeadline = everyUnstable ? ContinuousClock.now + (deadline - ContinuousClock.now) * configuration.lpTimeShare
                                       : deadline
        // Proved phases only grow from here, so what the bounds now prove stably inactive stays
        // so in every later LP: such neurons are left out for good (a fifth of the matrix and
        // more on the L1-regularised networks).
        let boxBounds = bounds
        for layer in 0...lastLayer {
            guard ContinuousClock.now < lpDeadline else { break }
            // The first layer's LP equals its symbolic bound (nothing is relaxed before it).
            let tightenAll = everyUnstable && layer < lastLayer && layer > 0
            let free = proved.phases[layer].indices.filter { proved.phases[layer][$0] == nil }
            let open = free.filter { book.wantPositive[layer][$0] || book.wantNegative[layer][$0] }
            var forBigM: [Int] = []
            if tightenAll {
                let pre = bounds.preActivation[layer]
                // The triangle's height −l·u/(u − l): how much the relaxation (and big-M) loses.
                forBigM = free.filter { !book.wantPositive[layer][$0] && !book.wantNegative[layer][$0] }
                    .sorted { -pre.lower[$0] * pre.upper[$0] / (pre.upper[$0] - pre.lower[$0])
                              > -pre.lower[$1] * pre.upper[$1] / (pre.upper[$1] - pre.lower[$1]) }
            }
            let targets = (open + forBigM).map { NeuronID(layer: layer, index: $0) }
            if targets.isEmpty { continue }
            // One LP per layer, ending before it (see LayerBoundLP), built from the bounds the
            // earlier layers' LPs tightened.
            let lp: LayerBoundLP
            do {
                lp = try LayerBoundLP(network: network, layer: layer, box: box, bounds: bounds, assignment: proved,
                                      boxBounds: boxBounds, region: book.region)
            } catch {
                return   // no LP, no tightening: the neurons stay as they are (never stable by default)
            }
            // Successive solves change only the objective: the primal simplex continues from the last basis.
            lp.lp.prefersPrimalSimplex = true
            var changed = false
            for neuron in targets {
                let i = neuron.index
                for maximize in [false, true] {
                    guard ContinuousClock.now < lpDeadline, proved[neuron] == nil else { break }
                    // Minimising can only prove "active" (and refute "inactive" via its point):
                    // needed while a negative witness is missing, likewise maximising.
                    let wanted = maximize ? book.wantPositive[layer][i] : book.wantNegative[layer][i]
                    guard wanted || tightenAll else { continue }
                    guard case .optimal(let value, let input) = lp.optimize(i, maximize: maximize, deadline: lpDeadline)
                    else { continue }
                    if maximize {
                        if value < bounds.preActivation[layer].upper[i] { tighten(neuron, upper: value); changed = true }
                        if value <= 0 { prove(neuron, .inactive); continue }
                    } else {
                        if value > bounds.preActivation[layer].lower[i] { tighten(neuron, lower: value); changed = true }
                        if value >= 0 { prove(neuron, .active); continue }
                    }
                    if wanted { book.record(input) }
                }
            }
            if changed && timeLeft { refreshBounds() }
        }
    }

    /// Tightens a pre-activation bound (a sound LP value), keeping the per-node copy in step.
    mutating func tighten(_ neuron: NeuronID, lower: Double? = nil, upper: Double? = nil) {
        let p = preActivationNodes[neuron.layer], relu = reluNodes[neuron.layer], i = neuron.index
        if let lower {
            bounds.nodes[p].lower[i] = Swift.max(bounds.nodes[p].lower[i], lower)
            bounds.nodes[relu].lower[i] = Swift.max(bounds.nodes[relu].lower[i], lower, 0)
        }
        if let upper {
            bounds.nodes[p].upper[i] = Swift.min(bounds.nodes[p].upper[i], upper)
            bounds.nodes[relu].upper[i] = Swift.min(bounds.nodes[relu].upper[i], Swift.max(upper, 0))
        }
        bounds.preActivation[neuron.layer] = bounds.nodes[p]
    }

    /// Recomputes symbolic bounds with the proved phases fixed and intersects them with the
    /// current ones (both are sound for the box), then adopts any newly stable neuron.
    mutating func refreshBounds() {
        let fresh = propagator.bounds(box: box, assignment: proved, method: .symbolic)
        guard !fresh.isInfeasible else { return }   // cannot happen for proved phases; keep the old ones
        for k in bounds.nodes.indices {
            for i in bounds.nodes[k].lower.indices {
                let lo = Swift.max(bounds.nodes[k].lower[i], fresh.nodes[k].lower[i])
                let up = Swift.min(bounds.nodes[k].upper[i], fresh.nodes[k].upper[i])
                if lo <= up { (bounds.nodes[k].lower[i], bounds.nodes[k].upper[i]) = (lo, up) }
            }
        }
        for layer in reluNodes.indices { bounds.preActivation[layer] = bounds.nodes[preActivationNodes[layer]] }
        bounds.output = bounds.nodes[network.output]
        adoptStablePhases()
    }

    // MARK: Exact mode

    /// The remaining stability claims: a missing positive witness is a claim "stably inactive",
    /// a missing negative one "stably active".
    var candidates: [StabilityCandidate] {
        undecided.flatMap { neuron -> [StabilityCandidate] in
            var result: [StabilityCandidate] = []
            if book.wantPositive[neuron.layer][neuron.index] { result.append(StabilityCandidate(neuron: neuron, positive: true)) }
            if book.wantNegative[neuron.layer][neuron.index] { result.append(StabilityCandidate(neuron: neuron, positive: false)) }
            return result
        }
    }

    /// Harvests MILP solutions as witnesses until the MILP finds none (or its share of the time
    /// is spent: the sound proofs after it need time too, and a MILP that cannot finish proving
    /// "nothing left to refute" would otherwise take it all).
    mutating func refuteWithMILP() {
        let left = deadline - ContinuousClock.now
        let milpDeadline = ContinuousClock.now + left * configuration.milpTimeShare
        while ContinuousClock.now < milpDeadline {
            let open = candidates
            if open.isEmpty { return }
            let milp = StabilityMILP(network: network, box: box, bounds: bounds, assignment: proved,
                                     candidates: open, margin: configuration.milpMargin, region: book.region)
            var book = self.book
            let outcome = milp.solve(deadline: milpDeadline) { x in book.record(x) > 0 }
            self.book = book
            if outcome != .harvested { return }   // exhausted, out of time, or failed: on to the proofs
        }
    }

    /// Sound proofs for every claim the MILP could not refute.
    ///
    /// Proofs differ by orders of magnitude in cost, and one hard neuron must not take the time of
    /// all the easy ones after it, nor may time given to a hard one be lost when it runs out. So
    /// the proofs run in rounds, each proof resuming where it stopped: the first round shares
    /// ``StableNeuronDetector/Configuration/certificationFirstPassShare`` of the time evenly, each
    /// later round doubles the slice (iterative deepening without repeated work). Within a round
    /// the proofs go layer by layer, each layer's on ``StableNeuronDetector/Configuration/threads``
    /// workers, and the phases a layer proves tighten the bounds of the next.
    mutating func certifySurvivors() {
        guard !undecided.isEmpty, timeLeft else { return }
        // A neuron lacking one sign can only be stable in the phase of the sign it has; lacking
        // both, it gets a proof for each phase.
        var proofs: [StabilityProof] = []
        for neuron in undecided.sorted() {
            if book.wantPositive[neuron.layer][neuron.index] {
                proofs.append(StabilityProof(neuron: neuron, goal: .inactive, root: proved))
            }
            if book.wantNegative[neuron.layer][neuron.index] {
                proofs.append(StabilityProof(neuron: neuron, goal: .active, root: proved))
            }
        }
        let threads = Swift.max(1, configuration.threads)
        var slice = (deadline - ContinuousClock.now)
            * (configuration.certificationFirstPassShare * Double(threads) / Double(Swift.max(proofs.count, 1)))
        var round = 0
        while !proofs.isEmpty, timeLeft {
            round += 1
            reportProgress(step: "certify", openProofs: proofs.count, round: round)
            var stillOpen: [StabilityProof] = []
            for layer in reluNodes.indices {
                let batch = proofs.filter { proof in
                    let (l, i) = (proof.neuron.layer, proof.neuron.index)
                    let wanted = proof.goal == .inactive ? book.wantPositive[l][i] : book.wantNegative[l][i]
                    return l == layer && proved[proof.neuron] == nil && wanted
                }
                guard !batch.isEmpty else { continue }
                guard timeLeft else { stillOpen += batch; continue }
                // The proofs of this round still to come get at least the slice each.
                let toCome = proofs.filter { $0.neuron.layer >= layer }.count
                let fair = (deadline - ContinuousClock.now) * (Double(threads) / Double(toCome))
                let (net, domain, bounder, global, fixed, region, limit) =
                    (network, box, propagator, bounds, proved, book.region, configuration.certificationNodeLimit)
                let results = StabilityProofBatch(batch).run(threads: threads, slice: Swift.min(slice, fair),
                                                             deadline: deadline, book: book) {
                    StabilityCertifier(network: net, box: domain, propagator: bounder, globalBounds: global,
                                       proved: fixed, nodeLimit: limit, region: region)
                }
                var changed = false
                for (proof, result) in zip(batch, results) {
                    for point in result.points { book.record(point) }
                    guard proved[proof.neuron] == nil else { continue }
                    switch result.outcome {
                    case .proved:
                        prove(proof.neuron, proof.goal)
                        changed = true
                    case .timeout:
                        stillOpen.append(proof)
                    case .refuted, .unknown:
                        break
                    }
                }
                if changed && timeLeft { refreshBounds() }
                reportProgress(step: "certify", openProofs: stillOpen.count + proofs.filter { $0.neuron.layer > layer }.count,
                               round: round)
            }
            proofs = stillOpen
            slice = slice * 2
        }
    }
}

/// SplitMix64: small, seeded, and the same on every platform, so runs are reproducible.
struct DetectorRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `[0, 1)`.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
