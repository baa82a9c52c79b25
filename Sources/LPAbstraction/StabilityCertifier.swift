import Network

/// How a sound stability proof for one neuron ended.
enum CertificationOutcome: Equatable {
    /// Every branch's sound bound has the goal's sign: the neuron is stable in that phase.
    case proved
    /// A rigorous witness of the opposite sign was recorded: the neuron is not stable that way.
    case refuted
    /// Node limit, or a numerical dead end (an exact leaf whose optimum point fails the rigorous
    /// check): nothing is claimed, and more time would not change that.
    case unknown
    /// The deadline passed first: nothing is claimed, but a later try with more time may succeed.
    case timeout
}

/// Proves a neuron stable with sound arithmetic only: branch-and-bound over the phases of the
/// unstable ReLUs in earlier layers, bounding each branch by the LP relaxation with the branch's
/// phases fixed, whose reported optimum is a rigorous dual bound (``LPRelaxation``). The neuron is
/// stably inactive when `max pre ≤ 0` on every branch, stably active when `min pre ≥ 0` on every
/// branch.
///
/// This is the sound counterpart of ``StabilityMILP``: the MILP's floating-point "cannot refute"
/// with a margin is no proof, so every survivor of the MILP comes here. LP optimum points are
/// tried as witnesses; at a leaf where every earlier ReLU is fixed the LP is exact, so a positive
/// optimum there almost always yields a rigorous witness.
///
/// Not thread-safe (it owns an ``LPRelaxation``).
final class StabilityCertifier {
    let network: Network
    let box: Box
    let propagator: BoundPropagator
    /// Sound bounds for the whole box (tightened by LP): every branch's LP uses them.
    var globalBounds: NetworkBounds
    /// Proved phases, fixed in every branch.
    var proved: PhaseAssignment
    /// Branch-and-bound nodes one proof may use in all.
    var nodeLimit: Int
    /// One LP per layer of the neurons proved (see ``LayerBoundLP``), reused across their proofs.
    private var lps: [Int: LayerBoundLP] = [:]
    /// The global bounds the certifier was created with: what they prove stably inactive is so in
    /// every branch, so those neurons are left out of every LP.
    private let boxBounds: NetworkBounds
    /// The phases that define the region (see ``LayerBoundLP``), `nil` for the whole box.
    private let region: PhaseAssignment?
    /// Branch-and-bound nodes bounded by this certifier, over all proofs (statistics).
    private(set) var nodesExplored = 0

    init(network: Network, box: Box, propagator: BoundPropagator, globalBounds: NetworkBounds,
         proved: PhaseAssignment, nodeLimit: Int, region: PhaseAssignment? = nil) {
        self.region = region
        self.network = network
        self.box = box
        self.propagator = propagator
        self.globalBounds = globalBounds
        self.boxBounds = globalBounds
        self.proved = proved
        self.nodeLimit = nodeLimit
    }

    /// Tries to prove `neuron` stable in phase `goal`; LP points are offered to `book`.
    func certify(_ neuron: NeuronID, goal: Phase, book: inout WitnessBook,
                 deadline: ContinuousClock.Instant) -> CertificationOutcome {
        let proof = StabilityProof(neuron: neuron, goal: goal, root: proved)
        return certify(proof, book: &book, deadline: deadline)
    }

    /// Continues `proof` where it stopped: a proof cut short by its deadline keeps its open
    /// branches, so time given to it later is never spent twice on the same nodes. Phases proved
    /// since a branch was opened are added to it (they hold on the whole box, so the branch's
    /// region is unchanged; a branch that contradicts one is empty).
    func certify(_ proof: StabilityProof, book: inout WitnessBook,
                 deadline: ContinuousClock.Instant) -> CertificationOutcome {
        let neuron = proof.neuron
        let maximize = proof.goal == .inactive
        while let (popped, parentBasis) = proof.open.popLast() {
            var assignment = popped
            if ContinuousClock.now >= deadline {
                proof.open.append((assignment, parentBasis))
                return .timeout
            }
            proof.explored += 1
            nodesExplored += 1
            if proof.explored > nodeLimit { return .unknown }
            guard assignment.adopt(proved) else { continue }   // contradicts a proved phase: empty
            guard let bounds = branchBounds(assignment) else { continue }   // empty branch
            let pre = bounds.preActivation[neuron.layer]
            if maximize ? pre.upper[neuron.index] <= 0 : pre.lower[neuron.index] >= 0 { continue }

            let outcome: LPOutcome
            let lp: LayerBoundLP
            do {
                if let cached = lps[neuron.layer], !cached.lp.isBroken {
                    lp = cached
                    lp.update(bounds: bounds, assignment: assignment)
                } else {
                    lp = try LayerBoundLP(network: network, layer: neuron.layer, box: box, bounds: bounds,
                                          assignment: assignment, boxBounds: boxBounds, region: region)
                    lps[neuron.layer] = lp
                }
                // Also into a freshly built LP: a proof resumed by another worker's certifier
                // brings its branches' bases along (one of another shape is ignored).
                if let parentBasis { lp.lp.restore(parentBasis) }
                outcome = lp.optimize(neuron.index, maximize: maximize, deadline: deadline)
            } catch {
                return .unknown
            }
            switch outcome {
            case .infeasible:
                continue
            case .timeout:
                proof.open.append((assignment, parentBasis))   // not bounded yet: the proof resumes with it
                return .timeout
            case .failed:
                return .unknown
            case .optimal(let value, let input):
                if maximize ? value <= 0 : value >= 0 { continue }
                book.record(input)
                let refuted = maximize ? book.positive[neuron.layer][neuron.index] != nil
                                       : book.negative[neuron.layer][neuron.index] != nil
                if refuted { return .refuted }
                guard let split = branchingNeuron(before: neuron.layer, bounds: bounds, assignment: assignment, lp: lp.lp) else {
                    return .unknown
                }
                // Depth first, exploring the phase the LP point sits in last (popped first): it
                // is the likelier home of a witness, and of the largest optimum.
                var active = assignment, inactive = assignment
                active[split] = .active
                inactive[split] = .inactive
                let basis = lp.lp.basis()
                proof.open.append((inactive, basis))
                proof.open.append((active, basis))
            }
        }
        return .proved
    }

    /// Sound bounds for the branch: the global bounds with the branch's phases applied (a fixed
    /// neuron's pre-activation range cut at 0), or `nil` when a phase empties a range.
    ///
    /// Recomputing symbolic bounds under the branch's phases was measured to cost a quarter of
    /// each node and to save no node at all on the digits networks: the LP already enforces the
    /// phases, and the LP-tightened global bounds are as tight as symbolic ones in the layers a
    /// branch has not split.
    private func branchBounds(_ assignment: PhaseAssignment) -> NetworkBounds? {
        guard let nodes = propagator.regionBounds(box: box, assignment: assignment, bounds: globalBounds) else { return nil }
        var bounds = globalBounds
        bounds.nodes = nodes
        let reluNodes = network.reluNodes
        for layer in reluNodes.indices {
            bounds.preActivation[layer] = nodes[network.nodes[reluNodes[layer]].inputs[0]]
        }
        bounds.output = nodes[network.output]
        return bounds
    }

    /// The free, unstable neuron of an earlier layer to split on: the one whose triangle
    /// relaxation costs the LP bound most, estimated as the gap `y − max(x, 0)` at the LP point
    /// (fixing the phase cuts that point off) times the dual value of the triangle's upper row (how
    /// much the objective moves per unit of that gap: a wide gap the objective does not care about
    /// is not worth a split), ties broken by the gap alone, then the triangle's height
    /// `−l·u/(u − l)`.
    private func branchingNeuron(before layer: Int, bounds: NetworkBounds, assignment: PhaseAssignment,
                                 lp: LPRelaxation) -> NeuronID? {
        var best: NeuronID?
        var bestScore = (estimate: -1.0, gap: -1.0, height: 0.0)
        let reluNodes = network.reluNodes
        for l in 0..<layer {
            let pre = bounds.preActivation[l]
            let x = lp.primalValues(ofNode: network.nodes[reluNodes[l]].inputs[0])
            let y = lp.primalValues(ofNode: reluNodes[l])
            let duals = lp.triangleDuals(layer: l)
            for i in pre.lower.indices where assignment.phases[l][i] == nil {
                let lo = pre.lower[i], up = pre.upper[i]
                guard lo < 0 && up > 0 else { continue }
                let gap = x.isEmpty || y.isEmpty ? 0 : Swift.max(0, y[i] - Swift.max(x[i], 0))
                let estimate = duals.isEmpty || !duals[i].isFinite ? 0 : gap * Swift.abs(duals[i])
                let score = (estimate: estimate, gap: gap, height: -lo * up / (up - lo))
                if best == nil || score > bestScore {
                    best = NeuronID(layer: l, index: i)
                    bestScore = score
                }
            }
        }
        return best
    }
}
