import CGLPK
import Network

/// How one ``NeuronMILP/solve(_:maximize:deadline:onSolution:)`` ended.
enum NeuronMILPOutcome: Equatable {
    /// `onSolution` accepted a solution (a rigorous witness of the wanted sign): search stopped.
    case witnessed
    /// Branch-and-bound finished without an accepted solution: GLPK's floating-point optimum (or
    /// `nil` when it found no integer solution at all). Evidence for stability, not a proof.
    case finished(optimum: Double?)
    /// The deadline passed first.
    case timeout
    /// GLPK failed; nothing was learnt.
    case failed(String)
}

/// The MILP of the earlier method (Tjeng, Xiao & Tedrake, ICLR 2019; Serra, Kumar & Ramalingam,
/// CPAIOR 2020): the exact big-M model of the network up to the pre-activations of one ReLU layer,
/// with one neuron's pre-activation as the objective, maximised and then minimised: two MILPs per
/// neuron. The model is built once per layer and only the objective changes between neurons, so
/// GLPK re-solves from the previous basis.
///
/// Not thread-safe: create, solve and destroy on one thread (GLPK keeps per-thread state).
final class NeuronMILP {
    private let problem: OpaquePointer
    private let inputSize: Int
    /// GLPK column of the pre-activation of the layer's neuron 0.
    private let firstColumn: Int
    private var objectiveColumn: Int?

    /// Builds the model of ReLU layer `layer`'s pre-activations. `bounds` must be sound and finite
    /// for the box (their pre-activation bounds are the big-M constants); `assignment` holds the
    /// proved phases of earlier layers, which become linear pieces instead of binaries. With a
    /// `region` (``StableNeuronDetector/classify(box:assignment:mode:deadline:seed:)``) the model
    /// extends to its last fixed layer and keeps its fixed neurons `margin` inside their phases, so
    /// that the MILP's points lie rigorously in the region.
    init(network: Network, box: Box, bounds: NetworkBounds, assignment: PhaseAssignment, layer: Int,
         region: PhaseAssignment? = nil, margin: Double = 1e-6) throws {
        let through = region?.phases.lastIndex(where: { $0.contains { $0 != nil } }).map { network.reluNodes[$0] }
        let lastNode = Swift.max(network.nodes[network.reluNodes[layer]].inputs[0], through ?? 0)
        try GLPKNetworkModel.validate(bounds, box: box, network: network)
        var model = GLPKNetworkModel(network: network, box: box, bounds: bounds, through: lastNode)
        model.addNetworkRows { model, layer, x, y in
            model.addBigMRows(layer: layer, x: x, y: y, bounds: bounds, assignment: assignment)
        }
        if let region { model.requireInterior(of: region, margin: margin) }
        firstColumn = model.preActivationColumn(layer: layer)
        inputSize = network.inputSize
        glp_term_out(GLP_OFF)
        problem = glp_create_prob()
        model.load(into: problem)
    }

    /// GLPK failed an internal check on this problem (``GLPKGuard``): it is never used or deleted again.
    private var isBroken = false

    deinit {
        if !isBroken { glp_delete_prob(problem) }
    }

    /// Maximises (or minimises) the pre-activation of neuron `index` of the layer. Every integer
    /// solution's input part goes to `onSolution`; when it returns `true` the search stops there.
    func solve(_ index: Int, maximize: Bool, deadline: ContinuousClock.Instant,
               onSolution: @escaping ([Double]) -> Bool) -> NeuronMILPOutcome {
        if isBroken { return .failed("GLPK failed an internal check on this MILP earlier") }
        if let objectiveColumn { glp_set_obj_coef(problem, Int32(objectiveColumn), 0) }
        objectiveColumn = firstColumn + index
        glp_set_obj_coef(problem, Int32(firstColumn + index), 1)
        glp_set_obj_dir(problem, maximize ? GLP_MAX : GLP_MIN)
        switch GLPKBranchAndBound.solve(problem, inputSize: inputSize, deadline: deadline, onSolution: onSolution) {
        case .harvested: return .witnessed
        case .finished: return .finished(optimum: glp_mip_status(problem) == GLP_OPT ? glp_mip_obj_val(problem) : nil)
        case .timeout: return .timeout
        case .failed(let reason): return .failed(reason)
        case .aborted:
            isBroken = true
            return .failed("GLPK failed an internal check")
        }
    }
}

extension DetectorRun {
    /// The baseline mode (``DetectorMode/perNeuronMILP``): the earlier method, two big-M MILPs per
    /// neuron, layer by layer, kept sound.
    ///
    /// For each ReLU layer in order, every neuron its bounds leave undecided is first bounded by the
    /// LP relaxation (a rigorous dual bound: sound tightening, so the big-M constants of the
    /// MILPs shrink as in Tjeng et al.'s progressive bounds); then a MILP maximises its
    /// pre-activation and, unless that settled it as inactive, one minimises it. A MILP solution is
    /// a witness only after the rigorous check of ``WitnessBook``. A MILP that finishes without a
    /// witness of the wanted sign says "stable" in floating point only, with GLPK's tolerances and
    /// no certificate: the neuron is then proved by ``StabilityCertifier`` (sound branch-and-bound),
    /// and stays `unknown` when that fails. The MILP optima do not become bounds for the same
    /// reason; proved phases are fixed and the symbolic bounds of later layers recomputed instead.
    /// No sampling and no attack: the MILPs alone find the witnesses, as in the earlier method.
    mutating func classifyWithPerNeuronMILPs() {
        let certifier = StabilityCertifier(network: network, box: box, propagator: propagator, globalBounds: bounds,
                                           proved: proved, nodeLimit: configuration.certificationNodeLimit,
                                           region: book.region)
        for layer in reluNodes.indices {
            guard timeLeft else { return }
            if layer > 0 {
                timed("lp") { $0.tightenLayerWithLP(layer) }
                certifier.globalBounds = bounds
                certifier.proved = proved
            }
            let targets = undecided.filter { $0.layer == layer }
            if targets.isEmpty { continue }
            var milp: NeuronMILP?
            timed("milp") { run in
                milp = try? NeuronMILP(network: run.network, box: run.box, bounds: run.bounds,
                                       assignment: run.proved, layer: layer, region: run.book.region,
                                       margin: run.configuration.milpMargin)
            }
            guard let milp else { continue }   // no model, no decision: these neurons stay unknown
            var changed = false
            for neuron in targets {
                // Maximise first: "inactive" is the commoner stable phase in trained networks.
                for (maximize, goal) in [(true, Phase.inactive), (false, Phase.active)] {
                    guard timeLeft, proved[neuron] == nil else { break }
                    // A witness of this sign may already have come from an earlier MILP's solutions.
                    guard maximize ? book.wantPositive[layer][neuron.index] : book.wantNegative[layer][neuron.index] else { continue }
                    var outcome = NeuronMILPOutcome.timeout
                    timed("milp") { run in
                        var book = run.book
                        outcome = milp.solve(neuron.index, maximize: maximize, deadline: run.deadline) { x in
                            book.record(x)
                            return maximize ? book.positive[layer][neuron.index] != nil
                                            : book.negative[layer][neuron.index] != nil
                        }
                        run.book = book
                    }
                    guard case .finished = outcome else { continue }   // witnessed, out of time, or failed
                    timed("certify") { run in
                        if certifier.certify(neuron, goal: goal, book: &run.book, deadline: run.deadline) == .proved {
                            run.prove(neuron, goal)
                            certifier.proved = run.proved
                            changed = true
                        }
                    }
                }
            }
            if changed && timeLeft {
                timed("bounds") { $0.refreshBounds() }
                certifier.globalBounds = bounds
                certifier.proved = proved
            }
        }
    }

    /// LP minimum and maximum of each undecided neuron of `layer`, from the sound bounds and
    /// proved phases so far: a rigorous LP value tightens the bound, one past 0 proves the phase.
    /// LP points are not offered as witnesses: in the earlier method the LP only bounds.
    mutating func tightenLayerWithLP(_ layer: Int) {
        let targets = undecided.filter { $0.layer == layer }
        guard !targets.isEmpty,
              let lp = try? LPRelaxation(network: network, box: box, bounds: bounds, assignment: proved) else { return }
        var changed = false
        for neuron in targets {
            for maximize in [true, false] {
                guard timeLeft, proved[neuron] == nil else { break }
                guard case .optimal(let value, _) = lp.minimize(preActivationOf: neuron, maximize: maximize,
                                                                deadline: deadline) else { continue }
                let i = neuron.index
                if maximize {
                    if value < bounds.preActivation[layer].upper[i] { tighten(neuron, upper: value); changed = true }
                    if value <= 0 { prove(neuron, .inactive) }
                } else {
                    if value > bounds.preActivation[layer].lower[i] { tighten(neuron, lower: value); changed = true }
                    if value >= 0 { prove(neuron, .active) }
                }
            }
        }
        if changed && timeLeft { refreshBounds() }
    }
}
