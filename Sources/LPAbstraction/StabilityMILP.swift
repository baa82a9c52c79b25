import CGLPK
import Network

/// One stability claim the MILP tries to refute: neuron `neuron` might be stably inactive (it has
/// no positive witness yet: `positive == true`, the MILP looks for `pre ≥ ε`) or stably active (no
/// negative witness: `positive == false`, the MILP looks for `pre ≤ −ε`).
struct StabilityCandidate: Hashable, Sendable {
    var neuron: NeuronID
    var positive: Bool
}

/// How one ``StabilityMILP/solve(deadline:onSolution:)`` ended.
enum StabilityMILPOutcome: Equatable {
    /// Some harvested solution supplied new rigorous witnesses; the search was stopped early so the
    /// caller can re-solve with fewer candidates.
    case harvested
    /// The search finished without any new witness: in floating point, no remaining candidate
    /// can reach its margin. This is *not* a proof of stability.
    case exhausted
    /// The deadline passed first.
    case timeout
    /// GLPK failed; nothing was learnt.
    case failed(String)
}

/// The one-MILP-for-the-whole-network refutation step of Serra et al. (NeurIPS 2021).
///
/// Big-M model in GLPK over the input box: exact affine rows; stable ReLUs (certified, or stable by
/// the bounds) as linear pieces; every other ReLU with a binary phase `z`:
/// `y ≥ x, y ≥ 0, y ≤ x − L(1 − z), y ≤ U z` with `[L, U]` its (tightened) pre-activation bounds.
/// Every candidate gets a binary indicator `r` with `r = 1 ⇒ pre ≥ ε` (or `≤ −ε`), written as
/// `pre ≥ L + (ε − L) r` (or `pre ≤ U − (U + ε) r`), and the objective maximises `Σ r`: the
/// solver hunts for inputs that refute as many stability claims at once as possible.
///
/// Each integer-feasible solution GLPK finds is handed to `onSolution` from the `glp_intopt`
/// callback (`GLP_IBINGO`); the caller checks it rigorously, and only a confirmed witness counts.
/// Nothing this class returns certifies stability: its arithmetic is floating point with
/// tolerances, so "no candidate can be refuted" only sends the survivors on to a sound proof.
///
/// Not thread-safe: create, solve and destroy on one thread (GLPK keeps per-thread state).
final class StabilityMILP {
    private let problem: OpaquePointer
    private let inputSize: Int
    /// Indicator column of each candidate (1-based GLPK columns).
    private(set) var indicatorColumns: [Int] = []

    /// Builds the model. `bounds` must be sound for the box; `assignment` holds proved phases.
    /// With a `region`, the model extends to its last fixed layer and keeps its fixed neurons
    /// `margin` inside their phases (see ``NeuronMILP``), so harvested points lie in the region.
    init(network: Network, box: Box, bounds: NetworkBounds, assignment: PhaseAssignment,
         candidates: [StabilityCandidate], margin: Double, region: PhaseAssignment? = nil) {
        let reluNodes = network.reluNodes
        // Only the nodes the candidates' pre-activations depend on are modelled: binaries of
        // ReLUs after the last candidate would be free variables GLPK still has to branch on.
        let through = region?.phases.lastIndex(where: { $0.contains { $0 != nil } }).map { reluNodes[$0] } ?? 0
        let lastNode = Swift.max(candidates.map { network.nodes[reluNodes[$0.neuron.layer]].inputs[0] }.max() ?? 0, through)
        var model = GLPKNetworkModel(network: network, box: box, bounds: bounds, through: lastNode)
        model.leftOut = Self.leftOut(network: network, bounds: bounds, candidates: candidates, region: region,
                                     lastNode: lastNode)
        model.addNetworkRows { model, layer, x, y in
            model.addBigMRows(layer: layer, x: x, y: y, bounds: bounds, assignment: assignment)
        }
        if let region { model.requireInterior(of: region, margin: margin) }

        // Indicators: r = 1 forces the candidate's pre-activation past the margin.
        for candidate in candidates {
            let x = model.preActivationColumn(layer: candidate.neuron.layer) + candidate.neuron.index
            let l = model.columnLower[x], u = model.columnUpper[x]
            let r = model.addColumn(lower: 0, upper: 1, binary: true)
            indicatorColumns.append(r)
            if candidate.positive {
                if u < margin { model.columnUpper[r] = 0 }   // unreachable: keep the row valid, the indicator off
                model.appendRow([(x, 1), (r, -(margin - l))], lower: l, upper: .infinity)
            } else {
                if l > -margin { model.columnUpper[r] = 0 }
                model.appendRow([(x, 1), (r, u + margin)], lower: -.infinity, upper: u)
            }
        }

        glp_term_out(GLP_OFF)
        problem = glp_create_prob()
        glp_set_obj_dir(problem, GLP_MAX)
        inputSize = network.inputSize
        model.load(into: problem)
        for r in indicatorColumns { glp_set_obj_coef(problem, Int32(r), 1) }
    }

    /// GLPK failed an internal check on this problem (``GLPKGuard``): it is never used or deleted again.
    private var isBroken = false

    deinit {
        if !isBroken { glp_delete_prob(problem) }
    }

    /// The neurons the model can leave out (``GLPKNetworkModel/leftOut``): those stably inactive
    /// under `bounds` (their output is exactly 0), and in the last layer modelled, whose outputs
    /// feed nothing here, every neuron that is not a candidate. The model only proposes points that
    /// the caller checks on the real network, so dropping rows merely loosens it; on a 2×800
    /// network the last layer's 800 dense rows shrink to the candidates'. Neurons the region fixes
    /// keep their rows, which hold MILP points inside the region.
    private static func leftOut(network: Network, bounds: NetworkBounds, candidates: [StabilityCandidate],
                                region: PhaseAssignment?, lastNode: Int) -> [[Bool]] {
        let reluNodes = network.reluNodes
        var leftOut = bounds.preActivation.map { $0.upper.map { $0 <= 0 } }
        if let lastLayer = candidates.map(\.neuron.layer).max(), network.nodes[reluNodes[lastLayer]].inputs[0] == lastNode {
            let wanted = Set(candidates.filter { $0.neuron.layer == lastLayer }.map(\.neuron.index))
            for i in leftOut[lastLayer].indices where !wanted.contains(i) { leftOut[lastLayer][i] = true }
        }
        if let region {
            for (l, phases) in region.phases.enumerated() {
                for (i, phase) in phases.enumerated() where phase != nil { leftOut[l][i] = false }
            }
        }
        return leftOut
    }

    /// Runs branch-and-bound. `onSolution` receives the input part of every integer-feasible
    /// solution GLPK finds, and of every node's LP optimum, and returns whether it supplied a new
    /// rigorous witness; on the first that does, the search stops (`.harvested`) so the caller can
    /// drop refuted candidates.
    func solve(deadline: ContinuousClock.Instant, onSolution: @escaping ([Double]) -> Bool) -> StabilityMILPOutcome {
        if isBroken { return .failed("GLPK failed an internal check on this MILP earlier") }
        switch GLPKBranchAndBound.solve(problem, inputSize: inputSize, deadline: deadline, harvestRelaxations: true,
                                        onSolution: onSolution) {
        case .harvested: return .harvested
        case .finished: return .exhausted
        case .timeout: return .timeout
        case .failed(let reason): return .failed(reason)
        case .aborted:
            isBroken = true
            return .failed("GLPK failed an internal check")
        }
    }
}
