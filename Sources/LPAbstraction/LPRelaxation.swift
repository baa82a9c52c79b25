import CGLPK
import Network

/// The result of one LP solve.
public enum LPOutcome: Sendable {
    /// The LP optimum: `value` is a *rigorous* bound on it (a lower bound when minimising, an
    /// upper bound when maximising), derived from the dual solution with outward rounding; `input`
    /// is the LP's optimal input point (a counterexample candidate, to be checked on the network).
    case optimal(value: Double, input: [Double])
    /// The LP is infeasible, proved by a Farkas certificate evaluated with outward rounding.
    /// `conflict` lists fixed-phase neurons such that fixing just these phases (with the other
    /// neurons free) already leaves the region empty, so a clause may be learned from it.
    case infeasible(conflict: [NeuronID])
    /// The deadline passed first.
    case timeout
    /// GLPK failed, or its answer could not be verified; nothing is proved.
    case failed(String)
}

/// Errors raised while building an ``LPRelaxation``.
public enum LPRelaxationError: Error, CustomStringConvertible {
    /// The bounds do not fit the network, or are not finite (every LP variable needs finite
    /// bounds for the rigorous optimum).
    case invalidBounds(String)

    public var description: String {
        switch self {
        case .invalidBounds(let reason): return "LP relaxation: invalid bounds: \(reason)"
        }
    }
}

/// The triangle LP relaxation of a ReLU network over an input box, in GLPK.
///
/// Variables: the inputs (box bounds), every node's output (bounds from the ``NetworkBounds``).
/// Constraints: exact equalities for affine nodes; for each ReLU, by its phase (fixed by the
/// assignment, or stable by the bounds): active `y = x, x ≥ 0`; inactive `y = 0, x ≤ 0`; unstable:
/// the triangle `y ≥ 0, y ≥ x, y ≤ u(x − l)/(u − l)` (slope and intercept rounded up, so the
/// relaxation holds exactly). Each ReLU owns two rows whose bounds and coefficients ``update(bounds:assignment:)``
/// rewrites in place, so the simplex basis survives phase and bound changes (warm start).
///
/// Soundness: GLPK's floating-point objective is never reported. The optimum returned is the
/// Neumaier–Shcherbina bound `Σ_i min_{r_i} y_i r_i + Σ_j min_{x_j ∈ [l_j, u_j]} (c − Aᵀy)_j x_j`
/// for GLPK's dual `y` (projected onto the sign each row allows), evaluated with rigorous error
/// bounds; it holds for any `y`, so GLPK's inaccuracy can only make it weaker. Infeasibility is
/// reported only when a Farkas certificate (rebuilt from the final basis with `glp_btran`) proves
/// it by the same evaluation with `c = 0`.
///
/// Not thread-safe: create, use and destroy on one thread (GLPK keeps per-thread state).
public final class LPRelaxation {
    private let network: Network
    private let problem: OpaquePointer
    private let reluNodes: [Int]
    /// Our exact copy of the model GLPK holds: the rigorous bounds are computed from it.
    private var model: GLPKNetworkModel
    /// Per ReLU layer and neuron: the two rows (`y − x`, `y − s·x`), and the position in
    /// `model.rowValues` of the `x` coefficient of the second.
    private var reluRows: [[(first: Int, second: Int, slopeEntry: Int)]] = []
    /// Columns that carry the current objective.
    private var objectiveColumns: [Int] = []
    private var bounds: NetworkBounds
    private var assignment: PhaseAssignment
    /// The contradicting ReLU layer when the bounds themselves are infeasible.
    private var trivialInfeasibleLayer: Int?
    /// GLPK failed one of its internal checks inside a call on this LP (`CGLPKGuard`): the
    /// problem object is in an unknown state, so every later solve reports `.failed` and the
    /// object is never touched again (not even deleted). Owners build a new LP instead.
    public private(set) var isBroken = false
    /// Whether solves start with the primal simplex rather than the dual one. Bound tightening
    /// changes only the objective between solves, so the last optimal basis stays primal feasible
    /// and the primal simplex continues from it, where the dual simplex would first have to
    /// restore dual feasibility (on the digits networks several times slower). The search, whose
    /// solves change bounds and phases and so keep the basis dual feasible, keeps the default.
    public var prefersPrimalSimplex = false
    /// Whether the dual simplex uses GLPK's long-step (flip-flop) ratio test, which passes over the
    /// bound flips of boxed variables (every column here is boxed) in one step (the primal simplex
    /// keeps Harris's ratio test: see `solve`). Measured: the
    /// stability proofs a fifth faster (digits_fc_2x100_l1_5e-5: 41.8 → 32.8 s), the search on
    /// mnistfc 256x4 prop_0_0.03 four times faster (84.9 → 21.2 s), ACAS Xu unchanged.
    public var usesLongStepRatioTest = true

    /// Builds the LP for `network` over `box`, with variable bounds from `bounds` (which must come
    /// from ``BoundPropagator/bounds(box:assignment:method:)`` for this box and assignment, or be a
    /// sound tightening of them) and the phases of `assignment`.
    ///
    /// `boxBounds`, when given, are sound bounds over the whole box with no phase fixed: the
    /// neurons they prove stably inactive are left out of the LP for good (their output is exactly
    /// 0 in every sub-problem of the box), which on image networks removes most of the matrix and
    /// makes every later solve proportionally cheaper. Later ``update(bounds:assignment:)`` calls
    /// must stay within the same box.
    ///
    /// `lastNode`, when given, ends the model at that node: the nodes after it are left out, which
    /// only relaxes the LP (every point of the whole model restricts to one of the truncated model),
    /// so its bounds stay sound. Bound tightening of a neuron needs nothing after the ReLU layer
    /// before it (see ``minimize(node:coefficients:constant:maximize:deadline:)``), and each
    /// simplex call refactorises the basis, whose cost grows faster than the model.
    public init(network: Network, box: Box, bounds: NetworkBounds, assignment: PhaseAssignment,
                boxBounds: NetworkBounds? = nil, through lastNode: Int? = nil) throws {
        self.network = network
        self.reluNodes = network.reluNodes
        self.bounds = bounds
        self.assignment = assignment
        try GLPKNetworkModel.validate(bounds, box: box, network: network)
        model = GLPKNetworkModel(network: network, box: box, bounds: bounds, through: lastNode)
        if let boxBounds, !boxBounds.isInfeasible, boxBounds.preActivation.count == network.reluNodes.count {
            model.leftOut = boxBounds.preActivation.map { $0.upper.map { $0 <= 0 } }
        }
        glp_term_out(GLP_OFF)
        problem = glp_create_prob()
        glp_set_obj_dir(problem, GLP_MIN)
        build()
    }

    deinit {
        if !isBroken { glp_delete_prob(problem) }
    }

    // MARK: Building

    /// Exact affine rows and two rows per ReLU neuron, handed to GLPK in one go.
    private func build() {
        if bounds.isInfeasible {
            trivialInfeasibleLayer = bounds.infeasibleLayer ?? reluNodes.count - 1
            return
        }
        var reluRows: [[(first: Int, second: Int, slopeEntry: Int)]] = []
        model.addNetworkRows { model, layer, x, y in
            reluRows.append(model.addTriangleRows(layer: layer, x: x, y: y))
        }
        self.reluRows = reluRows
        model.load(into: problem)
        applyPhases()
    }

    /// Sets the two rows and the column bounds of every ReLU from the current phases and bounds.
    private func applyPhases() {
        // Only the ReLU layers the model reaches have rows (see `lastNode`).
        for layer in reluRows.indices {
            let relu = reluNodes[layer]
            let x = model.columnStart[network.nodes[relu].inputs[0]]
            let y = model.columnStart[relu]
            let pre = bounds.preActivation[layer]
            for i in reluRows[layer].indices {
                let (first, second, slopeEntry) = reluRows[layer][i]
                if model.leftOut?[layer][i] == true {
                    (model.columnLower[y + i], model.columnUpper[y + i]) = (0, 0)
                    model.setColumnBounds(y + i, in: problem)
                    continue
                }
                let l = pre.lower[i], u = pre.upper[i]
                var slope = 1.0, intercept = 0.0
                switch GLPKNetworkModel.phase(layer: layer, index: i, bounds: bounds, assignment: assignment) {
                case .active?:
                    (model.rowLower[first], model.rowUpper[first]) = (0, 0)          // y − x = 0
                    (model.rowLower[second], model.rowUpper[second]) = (-.infinity, .infinity)
                    model.columnLower[x + i] = Swift.max(model.columnLower[x + i], 0)
                case .inactive?:
                    (model.rowLower[first], model.rowUpper[first]) = (-.infinity, .infinity)
                    (model.rowLower[second], model.rowUpper[second]) = (-.infinity, .infinity)
                    model.columnUpper[x + i] = Swift.min(model.columnUpper[x + i], 0)
                    (model.columnLower[y + i], model.columnUpper[y + i]) = (0, 0)
                case nil:
                    (model.rowLower[first], model.rowUpper[first]) = (0, .infinity)  // y − x ≥ 0
                    slope = (u / (u - l).nextDown).nextUp
                    intercept = (-l * slope).nextUp
                    (model.rowLower[second], model.rowUpper[second]) = (-.infinity, intercept)  // y − s·x ≤ t
                    model.columnLower[y + i] = Swift.max(model.columnLower[y + i], 0)
                }
                if model.rowValues[slopeEntry] != -slope {
                    model.rowValues[slopeEntry] = -slope
                    model.setRow(second, in: problem)
                }
                model.setRowBounds(first, in: problem)
                model.setRowBounds(second, in: problem)
                model.setColumnBounds(x + i, in: problem)
                model.setColumnBounds(y + i, in: problem)
            }
        }
    }
}

// MARK: Constraints, updates and solving

extension LPRelaxation {
    /// Adds `Σ c_j y_j ≤ rhs` over the outputs (the violation conjunction of a property).
    public func addOutputConstraint(coefficients: [Double], rhs: Double) {
        precondition(coefficients.count == network.outputSize, "expected \(network.outputSize) output coefficients")
        precondition(network.output <= model.lastNode, "the LP does not model the output")
        addConstraint(start: model.columnStart[network.output], coefficients: coefficients, rhs: rhs, depth: -1)
    }

    /// Adds `Σ a_i x_i ≤ rhs` over the inputs.
    public func addInputConstraint(coefficients: [Double], rhs: Double) {
        precondition(coefficients.count == network.inputSize, "expected \(network.inputSize) input coefficients")
        addConstraint(start: model.columnStart[0], coefficients: coefficients, rhs: rhs, depth: -1)
    }

    private func addConstraint(start: Int, coefficients: [Double], rhs: Double, depth: Int) {
        let entries = coefficients.enumerated().map { (start + $0.offset, $0.element) }
        let i = model.appendRow(entries, lower: -.infinity, upper: rhs, depth: depth)
        guard trivialInfeasibleLayer == nil, !isBroken else { return }
        glp_add_rows(problem, 1)
        model.setRow(i, in: problem)
    }

    /// Re-fixes phases and tightens bounds in place, keeping the simplex basis for a warm re-solve.
    /// `bounds` must be sound for the LP's box and the new `assignment`.
    public func update(bounds: NetworkBounds, assignment: PhaseAssignment) {
        precondition(bounds.nodes.count == network.nodes.count, "update needs per-node bounds")
        guard !isBroken else { return }
        self.bounds = bounds
        self.assignment = assignment
        if bounds.isInfeasible {
            trivialInfeasibleLayer = bounds.infeasibleLayer ?? reluNodes.count - 1
            return
        }
        if trivialInfeasibleLayer != nil {
            // The GLPK model was never built for the earlier, infeasible bounds.
            preconditionFailure("LPRelaxation: update after construction with infeasible bounds is not supported; build a new one")
        }
        for (k, node) in network.nodes.enumerated() where k > 0 && k <= model.lastNode {
            let start = model.columnStart[k]
            let b = bounds.nodes[k]
            for i in 0..<node.size {
                model.columnLower[start + i] = b.lower[i]
                model.columnUpper[start + i] = b.upper[i]
            }
        }
        if model.columnStart.count > 1 {
            for j in model.columnStart[1]..<model.columnLower.count { model.setColumnBounds(j, in: problem) }
        }
        applyPhases()
    }

    /// Minimises `Σ c_j y_j` over the outputs. `value` is a sound lower bound of the LP minimum
    /// (hence of the objective over box ∧ assignment ∧ added constraints); `input` is the LP's
    /// optimal input point.
    public func minimize(outputCoefficients: [Double], deadline: ContinuousClock.Instant?) -> LPOutcome {
        precondition(outputCoefficients.count == network.outputSize, "expected \(network.outputSize) output coefficients")
        precondition(network.output <= model.lastNode, "the LP does not model the output")
        let start = model.columnStart[network.output]
        var objective: [(Int, Double)] = []
        for (j, c) in outputCoefficients.enumerated() where c != 0 { objective.append((start + j, c)) }
        return solve(objective: objective, deadline: deadline)
    }

    /// Minimises (or, with `maximize`, maximises) the pre-activation of a ReLU neuron. When
    /// maximising, `value` is a sound *upper* bound of the maximum.
    public func minimize(preActivationOf neuron: NeuronID, maximize: Bool, deadline: ContinuousClock.Instant?) -> LPOutcome {
        let node = network.nodes[reluNodes[neuron.layer]].inputs[0]
        precondition(node <= model.lastNode, "the LP does not model the pre-activations of ReLU layer \(neuron.layer)")
        let x = model.columnStart[node] + neuron.index
        let outcome = solve(objective: [(x, maximize ? -1 : 1)], deadline: deadline)
        if maximize, case .optimal(let value, let input) = outcome {
            return .optimal(value: -value, input: input)
        }
        return outcome
    }

    /// Minimises (or, with `maximize`, maximises) the affine function `Σ_j c_j v_j + constant` of
    /// the values `v` of node `node`. The pre-activation of a neuron of a dense layer is such a
    /// function of the layer's input, so an LP that ends at that input (`through:`) bounds it
    /// without the layer's other rows: for the last layer of a wide network, nearly all the matrix.
    /// `value` is a sound lower (upper, when maximising) bound, the constant added with outward
    /// rounding.
    public func minimize(node: Int, coefficients: [Double], constant: Double, maximize: Bool,
                         deadline: ContinuousClock.Instant?) -> LPOutcome {
        precondition(node <= model.lastNode, "the LP does not model node \(node)")
        precondition(coefficients.count == network.nodes[node].size, "expected \(network.nodes[node].size) coefficients")
        let start = model.columnStart[node], sign = maximize ? -1.0 : 1.0
        var objective: [(Int, Double)] = []
        for (j, c) in coefficients.enumerated() where c != 0 { objective.append((start + j, sign * c)) }
        let outcome = solve(objective: objective, deadline: deadline)
        guard case .optimal(let value, let input) = outcome else { return outcome }
        // `value` bounds `Σ sign·c_j v_j` from below; the rounded sum is within half an ulp of the
        // exact one, so one step down keeps it a lower bound.
        let lower = (value + sign * constant).nextDown
        guard !lower.isNaN else { return .failed("the rigorous bound of the LP optimum is not a number") }
        return .optimal(value: maximize ? -lower : lower, input: input)
    }

    /// The dual values of the last solution's triangle upper rows (`y − s·x ≤ t`) of ReLU layer
    /// `layer`, 0 where the neuron is not relaxed: how fast the objective would improve were the
    /// row tightened, i.e. how much that neuron's relaxation costs the bound. Heuristics only
    /// (branching), never a proof; empty when the LP does not model the layer.
    public func triangleDuals(layer: Int) -> [Double] {
        guard trivialInfeasibleLayer == nil, !isBroken, layer < reluRows.count else { return [] }
        return reluRows[layer].map { rows in
            rows.slopeEntry < 0 || !model.rowUpper[rows.second].isFinite ? 0 : glp_get_row_dual(problem, Int32(rows.second))
        }
    }

    /// The value of the last solution's variables for one node (GLPK's floating-point primal):
    /// heuristics only (the search branches on where the relaxation is slack), never a proof.
    public func primalValues(ofNode k: Int) -> [Double] {
        guard trivialInfeasibleLayer == nil, !isBroken, k <= model.lastNode else { return [] }
        return (0..<network.nodes[k].size).map { glp_get_col_prim(problem, Int32(model.columnStart[k] + $0)) }
    }

    private func solve(objective: [(Int, Double)], deadline: ContinuousClock.Instant?) -> LPOutcome {
        if isBroken { return .failed("GLPK failed an internal check on this LP earlier") }
        if let layer = trivialInfeasibleLayer {
            return .infeasible(conflict: fixedNeurons(throughLayer: layer))
        }
        for j in objectiveColumns { glp_set_obj_coef(problem, Int32(j), 0) }
        objectiveColumns = objective.map(\.0)
        for (j, c) in objective { glp_set_obj_coef(problem, Int32(j), c) }

        var parameters = glp_smcp()
        glp_init_smcp(&parameters)
        parameters.msg_lev = GLP_MSG_OFF
        parameters.presolve = GLP_OFF
        // The long-step ratio test only in the dual simplex: GLPK's primal simplex can fail an
        // internal assertion with it (`teta_lim >= 0.0` in spxprim.c) and abort the process
        // (oval21 cifar_deep_kw img5168, a leaf LP after 414 s). So no silent switch to the
        // primal inside GLPK (GLP_DUALP): a failed dual solve comes back here and retries.
        func use(_ method: Int32) {
            parameters.meth = method
            parameters.r_test = method == GLP_DUAL && usesLongStepRatioTest ? GLP_RT_FLIP : GLP_RT_HAR
        }
        use(prefersPrimalSimplex ? GLP_PRIMAL : GLP_DUAL)
        var code: Int32 = 0
        for attempt in 0..<3 {
            if let deadline {
                let left = deadline - ContinuousClock.now
                let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
                if ms <= 0 { return .timeout }
                parameters.tm_lim = Int32(clamping: ms)
            }
            code = GLPKGuard.simplex(problem, &parameters)
            if code == GLPKGuard.aborted {
                isBroken = true
                return .failed("GLPK failed an internal check in glp_simplex")
            }
            if code == GLP_EBADB || code == GLP_ESING || code == GLP_ECOND {
                // The warm basis went bad (e.g. after many updates): start from an advanced basis.
                glp_adv_basis(problem, 0)
                if attempt == 1 { use(prefersPrimalSimplex ? GLP_DUAL : GLP_PRIMAL) }
                continue
            }
            if code == GLP_EFAIL && attempt < 2 {
                // First a fresh basis; then the other method (what GLP_DUALP did inside GLPK).
                if attempt == 0 { glp_std_basis(problem) } else { use(prefersPrimalSimplex ? GLP_DUAL : GLP_PRIMAL) }
                continue
            }
            break
        }
        switch code {
        case 0: break
        case GLP_ETMLIM: return .timeout
        default: return .failed("glp_simplex returned error code \(code)")
        }
        switch glp_get_status(problem) {
        case GLP_OPT:
            let value = rigorousLowerBound(objective: objective)
            guard !value.isNaN else { return .failed("the rigorous bound of the LP optimum is not a number") }
            return .optimal(value: value, input: optimalInput())
        case GLP_NOFEAS:
            return certifyInfeasibility()
        default:
            if glp_get_prim_stat(problem) == GLP_NOFEAS { return certifyInfeasibility() }
            return .failed("glp_simplex ended with status \(glp_get_status(problem))")
        }
    }

    /// A simplex basis of this LP: the status of every row and column (GLPK's `GLP_BS`, `GLP_NL`, …),
    /// one byte each.
    public struct Basis: Sendable {
        fileprivate var rows: [UInt8]
        fileprivate var columns: [UInt8]
    }

    /// The current basis, to warm-start a later solve of a nearby LP (a branch's sibling) from it.
    public func basis() -> Basis {
        guard !isBroken else { return Basis(rows: [], columns: []) }
        let m = Int(glp_get_num_rows(problem)), n = Int(glp_get_num_cols(problem))
        return Basis(rows: (0..<m).map { UInt8(glp_get_row_stat(problem, Int32($0 + 1))) },
                     columns: (0..<n).map { UInt8(glp_get_col_stat(problem, Int32($0 + 1))) })
    }

    /// Makes `basis` the starting basis of the next solve. A hint only: GLPK adjusts each
    /// non-basic status to the current bounds, a basis of another shape is ignored, and one that
    /// turns out singular is replaced as any bad warm basis is (or, where GLPK's factorisation
    /// fails an internal check on it, the LP reports `.failed` and ``isBroken``); the value a
    /// solve reports never depends on where the simplex started.
    public func restore(_ basis: Basis) {
        guard !isBroken, basis.rows.count == Int(glp_get_num_rows(problem)), basis.columns.count == Int(glp_get_num_cols(problem)) else { return }
        for (i, stat) in basis.rows.enumerated() { glp_set_row_stat(problem, Int32(i + 1), Int32(stat)) }
        for (j, stat) in basis.columns.enumerated() { glp_set_col_stat(problem, Int32(j + 1), Int32(stat)) }
    }

    /// The LP's optimal input point, clamped into the box.
    private func optimalInput() -> [Double] {
        (0..<network.inputSize).map { i in
            let j = model.columnStart[0] + i
            return Swift.min(Swift.max(glp_get_col_prim(problem, Int32(j)), model.columnLower[j]), model.columnUpper[j])
        }
    }

    /// The rigorous lower bound of `cᵀz` over all `z` satisfying the column bounds and the row
    /// bounds weighted by `y`: `Σ_i min_{r_i ∈ [L_i, U_i]} y_i r_i + Σ_j min_{x_j ∈ [l_j, u_j]} d_j x_j`
    /// with `d = c − Aᵀy`, every term and sum rounded outward. Also returns which rows and
    /// columns contribute (non-zero weight on a finite bound).
    private func weakDualBound(objective: [(Int, Double)], rowDuals y: [Double]) -> (value: Double, rowsUsed: [Int], columnsUsed: [Int]) {
        let n = model.columnLower.count
        var d = [Double](repeating: 0, count: n)
        var dAbs = [Double](repeating: 0, count: n)
        var count = [Int32](repeating: 0, count: n)
        for (j, c) in objective { d[j] += c; dAbs[j] += Swift.abs(c); count[j] += 1 }
        var terms = 0.0, termsAbs = 0.0, termCount = 0
        var rowsUsed: [Int] = []
        for i in 1...Swift.max(model.rowCount, 1) where i <= model.rowCount {
            let yi = y[i]
            if yi == 0 { continue }
            let t = yi > 0 ? yi * model.rowLower[i] : yi * model.rowUpper[i]
            if !t.isFinite { return (-.infinity, [], []) }
            terms += t
            termsAbs += Swift.abs(t)
            termCount += 1
            rowsUsed.append(i)
            for e in model.rowStart[i - 1]..<model.rowStart[i] {
                let j = Int(model.rowColumns[e])
                let p = yi * model.rowValues[e]
                d[j] -= p
                dAbs[j] += Swift.abs(p)
                count[j] += 1
            }
        }
        var columnsUsed: [Int] = []
        for j in 1..<n where dAbs[j] != 0 {
            // d_j lies within dError of the computed value (a sum of count_j products).
            let dError = SoundArithmetic.dotError(absoluteSum: dAbs[j], terms: Int(count[j]))
            let lo = d[j] - dError, hi = d[j] + dError
            let l = model.columnLower[j], u = model.columnUpper[j]
            let t = Swift.min(Swift.min(lo * l, lo * u), Swift.min(hi * l, hi * u))
            if !t.isFinite { return (-.infinity, [], []) }
            if t != 0 || (lo != 0 || hi != 0) && (l != 0 || u != 0) { columnsUsed.append(j) }
            terms += t
            termsAbs += Swift.abs(t)
            termCount += 1
        }
        // Each term is a rounded product (relative error ≤ u), covered by the dot-product bound.
        let error = SoundArithmetic.dotError(absoluteSum: termsAbs, terms: termCount)
        return (SoundArithmetic.lower(terms, error: error), rowsUsed, columnsUsed)
    }

    /// Row duals projected onto the signs their rows allow (a row with only a lower bound needs
    /// `y ≥ 0` when minimising, one with only an upper bound `y ≤ 0`, a free row `y = 0`).
    private func projectedDuals(_ raw: [Double]) -> [Double] {
        var y = raw
        for i in 1...Swift.max(model.rowCount, 1) where i <= model.rowCount {
            let hasLower = model.rowLower[i].isFinite, hasUpper = model.rowUpper[i].isFinite
            if !hasLower && y[i] > 0 { y[i] = 0 }
            if !hasUpper && y[i] < 0 { y[i] = 0 }
            if !y[i].isFinite { y[i] = 0 }
        }
        return y
    }

    private func rigorousLowerBound(objective: [(Int, Double)]) -> Double {
        var y = [Double](repeating: 0, count: model.rowCount + 1)
        for i in 1...Swift.max(model.rowCount, 1) where i <= model.rowCount { y[i] = glp_get_row_dual(problem, Int32(i)) }
        return weakDualBound(objective: objective, rowDuals: projectedDuals(y)).value
    }

    /// Builds Farkas multipliers from the final (infeasible) basis: `π = B⁻ᵀ c_B` where `c_B` is
    /// ±1 on basic variables outside their bounds (the phase-1 objective GLPK was minimising),
    /// then checks `y = ±π` rigorously. Tries the whole phase-1 objective and single violated rows.
    private func certifyInfeasibility() -> LPOutcome {
        let m = model.rowCount
        if glp_bf_exists(problem) == 0 {
            let code = GLPKGuard.factorize(problem)
            if code == GLPKGuard.aborted { isBroken = true }
            if code != 0 { return .failed("LP infeasible, but its basis could not be factorised for a certificate") }
        }
        var violated: [(position: Int, sign: Double, amount: Double)] = []
        for k in 1...Swift.max(m, 1) where k <= m {
            let h = Int(glp_get_bhead(problem, Int32(k)))
            let value: Double, lower: Double, upper: Double
            if h <= m {
                value = glp_get_row_prim(problem, Int32(h))
                (lower, upper) = (model.rowLower[h], model.rowUpper[h])
            } else {
                value = glp_get_col_prim(problem, Int32(h - m))
                (lower, upper) = (model.columnLower[h - m], model.columnUpper[h - m])
            }
            let tolerance = 1e-9 * (1 + Swift.abs(value))
            if value < lower - tolerance { violated.append((k, -1, lower - value)) }
            if value > upper + tolerance { violated.append((k, 1, value - upper)) }
        }
        var candidates: [[(Int, Double)]] = []
        if !violated.isEmpty { candidates.append(violated.map { ($0.position, $0.sign) }) }
        for v in violated.sorted(by: { $0.amount > $1.amount }).prefix(8) { candidates.append([(v.position, v.sign)]) }
        let ray = Int(glp_get_unbnd_ray(problem))
        if ray > 0 {
            for k in 1...Swift.max(m, 1) where k <= m && Int(glp_get_bhead(problem, Int32(k))) == ray {
                candidates.append([(k, 1)])
            }
        }
        for candidate in candidates {
            var x = [Double](repeating: 0, count: m + 1)
            for (k, sign) in candidate { x[k] = sign }
            glp_btran(problem, &x)
            for sign in [-1.0, 1.0] {
                let y = projectedDuals(x.map { sign * $0 })
                let (value, rowsUsed, columnsUsed) = weakDualBound(objective: [], rowDuals: y)
                if value > 0 {
                    // Every row and column bound the certificate uses depends on the phases of
                    // ReLU layers up to its depth; fixing those layers' phases alone reproduces it.
                    let depth = Swift.max(rowsUsed.map { model.rowDepth[$0] }.max() ?? -1,
                                          columnsUsed.map { model.columnDepth[$0] }.max() ?? -1)
                    return .infeasible(conflict: fixedNeurons(throughLayer: depth))
                }
            }
        }
        return .failed("LP reported infeasible, but no Farkas certificate could be verified")
    }

    /// The fixed-phase neurons of the assignment in ReLU layers `0...layer`.
    private func fixedNeurons(throughLayer layer: Int) -> [NeuronID] {
        var result: [NeuronID] = []
        guard layer >= 0 else { return result }
        for l in 0...Swift.min(layer, reluNodes.count - 1) {
            for (i, phase) in assignment.phases[l].enumerated() where phase != nil {
                result.append(NeuronID(layer: l, index: i))
            }
        }
        return result
    }
}
