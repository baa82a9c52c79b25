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
    init(network: Network, box: Box, bounds: NetworkBounds, assignment: PhaseAssignment,
         candidates: [StabilityCandidate], margin: Double) {
        glp_term_out(GLP_OFF)
        problem = glp_create_prob()
        glp_set_obj_dir(problem, GLP_MAX)
        inputSize = network.inputSize
        let nodes = network.nodes
        let reluNodes = network.reluNodes

        var columnStart: [Int] = []
        var lower: [Double] = [0], upper: [Double] = [0], integer: [Bool] = [false]
        func addColumn(_ l: Double, _ u: Double, binary: Bool = false) -> Int {
            lower.append(l); upper.append(u); integer.append(binary)
            return lower.count - 1
        }
        // Only the nodes the candidates' pre-activations depend on are modelled: binaries of
        // ReLUs after the last candidate would be free variables GLPK still has to branch on.
        let lastNode = candidates.map { nodes[reluNodes[$0.neuron.layer]].inputs[0] }.max() ?? 0
        var nodeBounds = bounds.nodes
        nodeBounds[0] = LayerBounds(lower: box.lower, upper: box.upper)
        for (k, node) in nodes.enumerated() where k <= lastNode {
            columnStart.append(lower.count)
            for i in 0..<node.size { _ = addColumn(nodeBounds[k].lower[i], nodeBounds[k].upper[i]) }
        }

        var ia: [Int32] = [0], ja: [Int32] = [0], ar: [Double] = [0]
        var rowLower: [Double] = [], rowUpper: [Double] = []
        func addRow(_ entries: [(Int, Double)], _ l: Double, _ u: Double) {
            rowLower.append(l); rowUpper.append(u)
            let r = Int32(rowLower.count)
            for (j, a) in entries where a != 0 { ia.append(r); ja.append(Int32(j)); ar.append(a) }
        }

        for (k, node) in nodes.enumerated() where k <= lastNode {
            let out = columnStart[k]
            switch node.operation {
            case .input:
                break
            case .dense(let d):
                let inp = columnStart[node.inputs[0]], n = d.weights.columns
                for i in 0..<d.weights.rows {
                    var entries = [(out + i, 1.0)]
                    for j in 0..<n { entries.append((inp + j, -d.weights.values[i * n + j])) }
                    addRow(entries, d.bias[i], d.bias[i])
                }
            case .convolution(let c):
                let g = ConvolutionGeometry(c)
                let inp = columnStart[node.inputs[0]]
                for m in 0..<g.outC {
                    let group = m / g.outPerGroup
                    for oh in 0..<g.outH {
                        for ow in 0..<g.outW {
                            var entries = [(out + (m * g.outH + oh) * g.outW + ow, 1.0)]
                            for ci in 0..<g.cpg {
                                let channel = group * g.cpg + ci
                                for kh in 0..<g.kH {
                                    let ih = oh * c.strides.height - c.pads.top + kh * c.dilations.height
                                    if ih < 0 || ih >= g.inH { continue }
                                    for kw in 0..<g.kW {
                                        let iw = ow * c.strides.width - c.pads.left + kw * c.dilations.width
                                        if iw < 0 || iw >= g.inW { continue }
                                        entries.append((inp + (channel * g.inH + ih) * g.inW + iw,
                                                        -c.weights[((m * g.cpg + ci) * g.kH + kh) * g.kW + kw]))
                                    }
                                }
                            }
                            addRow(entries, c.bias[m], c.bias[m])
                        }
                    }
                }
            case .elementwiseAffine(let scale, let shift):
                let inp = columnStart[node.inputs[0]]
                for i in 0..<node.size { addRow([(out + i, 1), (inp + i, -scale[i])], shift[i], shift[i]) }
            case .add:
                let a = columnStart[node.inputs[0]], b = columnStart[node.inputs[1]]
                for i in 0..<node.size {
                    if a == b {
                        addRow([(out + i, 1), (a + i, -2)], 0, 0)
                    } else {
                        addRow([(out + i, 1), (a + i, -1), (b + i, -1)], 0, 0)
                    }
                }
            case .relu:
                let layer = reluNodes.firstIndex(of: k)!
                let x = columnStart[node.inputs[0]]
                let pre = bounds.preActivation[layer]
                for i in 0..<node.size {
                    let l = pre.lower[i], u = pre.upper[i]
                    let phase = assignment.phases[layer][i] ?? (l >= 0 ? .active : (u <= 0 ? .inactive : nil))
                    switch phase {
                    case .active?:
                        lower[x + i] = Swift.max(lower[x + i], 0)
                        addRow([(out + i, 1), (x + i, -1)], 0, 0)
                    case .inactive?:
                        upper[x + i] = Swift.min(upper[x + i], 0)
                        (lower[out + i], upper[out + i]) = (0, 0)
                    case nil:
                        let z = addColumn(0, 1, binary: true)
                        lower[out + i] = Swift.max(lower[out + i], 0)
                        upper[out + i] = Swift.max(upper[out + i], u)
                        addRow([(out + i, 1), (x + i, -1)], 0, .infinity)            // y ≥ x
                        addRow([(out + i, 1), (x + i, -1), (z, -l)], -.infinity, -l)  // y ≤ x − L(1 − z)
                        addRow([(out + i, 1), (z, -u)], -.infinity, 0)                // y ≤ U z
                    }
                }
            }
        }

        // Indicators: r = 1 forces the candidate's pre-activation past the margin.
        for candidate in candidates {
            let layer = candidate.neuron.layer, i = candidate.neuron.index
            let x = columnStart[nodes[reluNodes[layer]].inputs[0]] + i
            let l = lower[x], u = upper[x]
            let r = addColumn(0, 1, binary: true)
            indicatorColumns.append(r)
            if candidate.positive {
                if u < margin { upper[r] = 0 }   // unreachable: keep the row valid, the indicator off
                addRow([(x, 1), (r, -(margin - l))], l, .infinity)
            } else {
                if l > -margin { upper[r] = 0 }
                addRow([(x, 1), (r, u + margin)], -.infinity, u)
            }
        }

        let columns = lower.count - 1
        glp_add_cols(problem, Int32(columns))
        for j in 1...Swift.max(columns, 1) where j <= columns {
            let l = lower[j], u = Swift.max(lower[j], upper[j])
            glp_set_col_bnds(problem, Int32(j), l == u ? GLP_FX : GLP_DB, l, u)
            if integer[j] { glp_set_col_kind(problem, Int32(j), GLP_BV) }
        }
        for r in indicatorColumns { glp_set_obj_coef(problem, Int32(r), 1) }
        glp_add_rows(problem, Int32(rowLower.count))
        for (index, (l, u)) in zip(rowLower, rowUpper).enumerated() {
            let type: Int32
            switch (l.isFinite, u.isFinite) {
            case (false, false): type = GLP_FR
            case (true, false): type = GLP_LO
            case (false, true): type = GLP_UP
            case (true, true): type = l == u ? GLP_FX : GLP_DB
            }
            glp_set_row_bnds(problem, Int32(index + 1), type, l.isFinite ? l : 0, u.isFinite ? u : 0)
        }
        glp_load_matrix(problem, Int32(ia.count - 1), ia, ja, ar)
    }

    deinit {
        glp_delete_prob(problem)
    }

    /// What the `glp_intopt` callback needs; passed through `cb_info`.
    private final class CallbackContext {
        let inputSize: Int
        let deadline: ContinuousClock.Instant
        let onSolution: ([Double]) -> Bool
        var harvested = false
        var timedOut = false
        init(inputSize: Int, deadline: ContinuousClock.Instant, onSolution: @escaping ([Double]) -> Bool) {
            self.inputSize = inputSize
            self.deadline = deadline
            self.onSolution = onSolution
        }
    }

    /// Runs branch-and-bound. `onSolution` receives the input part of every integer-feasible
    /// solution GLPK finds and returns whether it supplied a new rigorous witness; on the first
    /// that does, the search stops (`.harvested`) so the caller can drop refuted candidates.
    func solve(deadline: ContinuousClock.Instant, onSolution: @escaping ([Double]) -> Bool) -> StabilityMILPOutcome {
        guard let ms = Self.milliseconds(until: deadline) else { return .timeout }
        // glp_intopt without its presolver needs an optimal LP basis first; the presolver is off so
        // the callback sees our own columns.
        var simplex = glp_smcp()
        glp_init_smcp(&simplex)
        simplex.msg_lev = GLP_MSG_OFF
        simplex.tm_lim = ms
        let lpCode = glp_simplex(problem, &simplex)
        if lpCode == GLP_ETMLIM { return .timeout }
        if lpCode != 0 { return .failed("glp_simplex returned error code \(lpCode) on the MILP relaxation") }
        if glp_get_status(problem) != GLP_OPT {
            return .failed("the MILP's LP relaxation ended with status \(glp_get_status(problem))")
        }

        let context = CallbackContext(inputSize: inputSize, deadline: deadline, onSolution: onSolution)
        let info = Unmanaged.passRetained(context)
        defer { info.release() }
        var parameters = glp_iocp()
        glp_init_iocp(&parameters)
        parameters.msg_lev = GLP_MSG_OFF
        parameters.presolve = GLP_OFF
        parameters.mip_gap = 0
        guard let left = Self.milliseconds(until: deadline) else { return .timeout }
        parameters.tm_lim = left
        parameters.cb_info = info.toOpaque()
        parameters.cb_func = { tree, raw in
            guard let tree, let raw else { return }
            let context = Unmanaged<CallbackContext>.fromOpaque(raw).takeUnretainedValue()
            if ContinuousClock.now >= context.deadline {
                context.timedOut = true
                glp_ios_terminate(tree)
                return
            }
            guard glp_ios_reason(tree) == GLP_IBINGO, let problem = glp_ios_get_prob(tree) else { return }
            let x = (0..<context.inputSize).map { glp_mip_col_val(problem, Int32($0 + 1)) }
            if context.onSolution(x) {
                context.harvested = true
                glp_ios_terminate(tree)
            }
        }
        let code = glp_intopt(problem, &parameters)
        if context.harvested { return .harvested }
        if context.timedOut || code == GLP_ETMLIM { return .timeout }
        if code != 0 && code != GLP_ESTOP { return .failed("glp_intopt returned error code \(code)") }
        switch glp_mip_status(problem) {
        case GLP_OPT, GLP_NOFEAS: return .exhausted
        default: return .failed("glp_intopt ended with status \(glp_mip_status(problem))")
        }
    }

    /// Milliseconds left until `deadline` as GLPK wants them, `nil` when it has passed.
    static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32? {
        let left = deadline - ContinuousClock.now
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return ms > 0 ? Int32(clamping: ms) : nil
    }
}
