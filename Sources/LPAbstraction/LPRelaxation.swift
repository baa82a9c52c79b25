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
    /// GLPK column (1-based) of value 0 of each node.
    private var columnStart: [Int] = []
    /// Column bounds, 1-based (index 0 unused).
    private var columnLower: [Double] = [0], columnUpper: [Double] = [0]
    /// The constraint matrix in compressed rows, our own exact copy of what GLPK holds.
    private var rowStart: [Int] = [0]
    private var rowColumns: [Int32] = []
    private var rowValues: [Double] = []
    /// Row bounds (`-∞` / `+∞` where absent), 1-based.
    private var rowLower: [Double] = [0], rowUpper: [Double] = [0]
    /// For each row, the last ReLU layer whose phases its validity depends on (for conflicts):
    /// `-1` for the exact affine equalities and property rows, the neuron's layer for ReLU rows.
    private var rowDepth: [Int] = [0]
    /// For each column, the ReLU layer whose phases its bounds depend on at most.
    private var columnDepth: [Int] = [0]
    /// Per ReLU layer and neuron: the two rows (`y − x`, `y − s·x`), and the position in
    /// `rowValues` of the `x` coefficient of the second.
    private var reluRows: [[(first: Int, second: Int, slopeEntry: Int)]] = []
    /// Columns that carry the current objective.
    private var objectiveColumns: [Int] = []
    private var bounds: NetworkBounds
    private var assignment: PhaseAssignment
    /// The contradicting ReLU layer when the bounds themselves are infeasible.
    private var trivialInfeasibleLayer: Int?

    /// Builds the LP for `network` over `box`, with variable bounds from `bounds` (which must come
    /// from ``BoundPropagator/bounds(box:assignment:method:)`` for this box and assignment, or be a
    /// sound tightening of them) and the phases of `assignment`.
    public init(network: Network, box: Box, bounds: NetworkBounds, assignment: PhaseAssignment) throws {
        guard bounds.nodes.count == network.nodes.count else {
            throw LPRelaxationError.invalidBounds("expected bounds for \(network.nodes.count) nodes, got \(bounds.nodes.count)")
        }
        self.network = network
        self.reluNodes = network.reluNodes
        self.bounds = bounds
        self.assignment = assignment
        glp_term_out(GLP_OFF)
        problem = glp_create_prob()
        glp_set_obj_dir(problem, GLP_MIN)
        try build(box: box)
    }

    deinit {
        glp_delete_prob(problem)
    }

    // MARK: Building

    /// For each node, the last ReLU layer that can influence its bounds: bounds of a ReLU's input
    /// node are clipped by that ReLU's phases, and everything downstream inherits them.
    private func nodeDepths() -> [Int] {
        var depth = [Int](repeating: -1, count: network.nodes.count)
        var preLayer = [Int: Int]()
        for (layer, relu) in reluNodes.enumerated() { preLayer[network.nodes[relu].inputs[0]] = layer }
        for (k, node) in network.nodes.enumerated() {
            var d = node.inputs.map { depth[$0] }.max() ?? -1
            if let layer = preLayer[k] { d = Swift.max(d, layer) }
            depth[k] = d
        }
        return depth
    }

    private func build(box: Box) throws {
        let nodes = network.nodes
        var nodeBounds = bounds.nodes
        nodeBounds[0] = LayerBounds(lower: box.lower, upper: box.upper)
        let depth = nodeDepths()
        var column = 1
        for (k, node) in nodes.enumerated() {
            columnStart.append(column)
            let b = nodeBounds[k]
            guard b.lower.count == node.size, b.upper.count == node.size else {
                throw LPRelaxationError.invalidBounds("node \(k) has \(b.lower.count) bounds, expected \(node.size)")
            }
            for i in 0..<node.size {
                guard b.lower[i].isFinite || bounds.isInfeasible, b.upper[i].isFinite || bounds.isInfeasible else {
                    throw LPRelaxationError.invalidBounds("node \(k) '\(node.name)' value \(i) has an infinite bound")
                }
                columnLower.append(b.lower[i])
                columnUpper.append(b.upper[i])
                columnDepth.append(depth[k])
            }
            column += node.size
        }
        if bounds.isInfeasible {
            trivialInfeasibleLayer = bounds.infeasibleLayer ?? reluNodes.count - 1
            return
        }
        glp_add_cols(problem, Int32(column - 1))
        for j in 1..<column { setColumnBounds(j) }

        // Rows: exact affine equalities, then two rows per ReLU neuron.
        reluRows = reluNodes.map { _ in [] }
        for (k, node) in nodes.enumerated() {
            let out = columnStart[k]
            switch node.operation {
            case .input:
                break
            case .dense(let d):
                let inp = columnStart[node.inputs[0]]
                let n = d.weights.columns
                for i in 0..<d.weights.rows {
                    var cols: [Int32] = [Int32(out + i)], vals: [Double] = [1]
                    for j in 0..<n {
                        let w = d.weights.values[i * n + j]
                        if w != 0 { cols.append(Int32(inp + j)); vals.append(-w) }
                    }
                    appendRow(cols, vals, lower: d.bias[i], upper: d.bias[i], depth: -1)
                }
            case .convolution(let c):
                let g = ConvolutionGeometry(c)
                let inp = columnStart[node.inputs[0]]
                for m in 0..<g.outC {
                    let group = m / g.outPerGroup
                    for oh in 0..<g.outH {
                        for ow in 0..<g.outW {
                            var cols: [Int32] = [Int32(out + (m * g.outH + oh) * g.outW + ow)], vals: [Double] = [1]
                            for ci in 0..<g.cpg {
                                let channel = group * g.cpg + ci
                                for kh in 0..<g.kH {
                                    let ih = oh * c.strides.height - c.pads.top + kh * c.dilations.height
                                    if ih < 0 || ih >= g.inH { continue }
                                    for kw in 0..<g.kW {
                                        let iw = ow * c.strides.width - c.pads.left + kw * c.dilations.width
                                        if iw < 0 || iw >= g.inW { continue }
                                        let w = c.weights[((m * g.cpg + ci) * g.kH + kh) * g.kW + kw]
                                        if w != 0 {
                                            cols.append(Int32(inp + (channel * g.inH + ih) * g.inW + iw))
                                            vals.append(-w)
                                        }
                                    }
                                }
                            }
                            appendRow(cols, vals, lower: c.bias[m], upper: c.bias[m], depth: -1)
                        }
                    }
                }
            case .elementwiseAffine(let scale, let shift):
                let inp = columnStart[node.inputs[0]]
                for i in 0..<node.size {
                    if scale[i] == 0 {
                        appendRow([Int32(out + i)], [1], lower: shift[i], upper: shift[i], depth: -1)
                    } else {
                        appendRow([Int32(out + i), Int32(inp + i)], [1, -scale[i]], lower: shift[i], upper: shift[i], depth: -1)
                    }
                }
            case .add:
                let a = columnStart[node.inputs[0]], b = columnStart[node.inputs[1]]
                for i in 0..<node.size {
                    if a == b {
                        appendRow([Int32(out + i), Int32(a + i)], [1, -2], lower: 0, upper: 0, depth: -1)
                    } else {
                        appendRow([Int32(out + i), Int32(a + i), Int32(b + i)], [1, -1, -1], lower: 0, upper: 0, depth: -1)
                    }
                }
            case .relu:
                let layer = reluNodes.firstIndex(of: k)!
                let x = columnStart[node.inputs[0]]
                for i in 0..<node.size {
                    let first = appendRow([Int32(out + i), Int32(x + i)], [1, -1], lower: 0, upper: .infinity, depth: layer)
                    let second = appendRow([Int32(out + i), Int32(x + i)], [1, -1], lower: -.infinity, upper: 0, depth: layer)
                    reluRows[layer].append((first, second, rowStart[second - 1] + 1))
                }
            }
        }
        loadMatrix()
        applyPhases()
    }

    /// Appends a row to our copy (GLPK receives the matrix in one go); returns its 1-based index.
    @discardableResult
    private func appendRow(_ cols: [Int32], _ vals: [Double], lower: Double, upper: Double, depth: Int) -> Int {
        rowColumns.append(contentsOf: cols)
        rowValues.append(contentsOf: vals)
        rowStart.append(rowColumns.count)
        rowLower.append(lower)
        rowUpper.append(upper)
        rowDepth.append(depth)
        return rowStart.count - 1
    }

    private var rowCount: Int { rowStart.count - 1 }

    private func loadMatrix() {
        let m = rowCount
        glp_add_rows(problem, Int32(m))
        var ia: [Int32] = [0], ja: [Int32] = [0], ar: [Double] = [0]
        ia.reserveCapacity(rowColumns.count + 1)
        ja.reserveCapacity(rowColumns.count + 1)
        ar.reserveCapacity(rowColumns.count + 1)
        for i in 1...max(m, 1) where i <= m {
            for e in rowStart[i - 1]..<rowStart[i] {
                ia.append(Int32(i))
                ja.append(rowColumns[e])
                ar.append(rowValues[e])
            }
            setRowBounds(i)
        }
        glp_load_matrix(problem, Int32(ia.count - 1), ia, ja, ar)
    }

    private func setColumnBounds(_ j: Int) {
        let l = columnLower[j], u = columnUpper[j]
        glp_set_col_bnds(problem, Int32(j), l == u ? GLP_FX : GLP_DB, l, Swift.max(l, u))
    }

    private func setRowBounds(_ i: Int) {
        let l = rowLower[i], u = rowUpper[i]
        let type: Int32
        switch (l.isFinite, u.isFinite) {
        case (false, false): type = GLP_FR
        case (true, false): type = GLP_LO
        case (false, true): type = GLP_UP
        case (true, true): type = l == u ? GLP_FX : GLP_DB
        }
        glp_set_row_bnds(problem, Int32(i), type, l.isFinite ? l : 0, u.isFinite ? u : 0)
    }

    /// Sets the two rows and the column bounds of every ReLU from the current phases and bounds.
    private func applyPhases() {
        for (layer, relu) in reluNodes.enumerated() {
            let x = columnStart[network.nodes[relu].inputs[0]]
            let y = columnStart[relu]
            let pre = bounds.preActivation[layer]
            for i in reluRows[layer].indices {
                let (first, second, slopeEntry) = reluRows[layer][i]
                let l = pre.lower[i], u = pre.upper[i]
                let phase = assignment.phases[layer][i] ?? (l >= 0 ? .active : (u <= 0 ? .inactive : nil))
                var slope = 1.0, intercept = 0.0
                switch phase {
                case .active?:
                    (rowLower[first], rowUpper[first]) = (0, 0)          // y − x = 0
                    (rowLower[second], rowUpper[second]) = (-.infinity, .infinity)
                    columnLower[x + i] = Swift.max(columnLower[x + i], 0)
                case .inactive?:
                    (rowLower[first], rowUpper[first]) = (-.infinity, .infinity)
                    (rowLower[second], rowUpper[second]) = (-.infinity, .infinity)
                    columnUpper[x + i] = Swift.min(columnUpper[x + i], 0)
                    (columnLower[y + i], columnUpper[y + i]) = (0, 0)
                case nil:
                    (rowLower[first], rowUpper[first]) = (0, .infinity)  // y − x ≥ 0
                    slope = (u / (u - l).nextDown).nextUp
                    intercept = (-l * slope).nextUp
                    (rowLower[second], rowUpper[second]) = (-.infinity, intercept)  // y − s·x ≤ t
                    columnLower[y + i] = Swift.max(columnLower[y + i], 0)
                }
                if rowValues[slopeEntry] != -slope {
                    rowValues[slopeEntry] = -slope
                    let lo = rowStart[second - 1]
                    var cols: [Int32] = [0] + rowColumns[lo..<rowStart[second]]
                    var vals: [Double] = [0] + rowValues[lo..<rowStart[second]]
                    glp_set_mat_row(problem, Int32(second), Int32(cols.count - 1), &cols, &vals)
                }
                setRowBounds(first)
                setRowBounds(second)
                setColumnBounds(x + i)
                setColumnBounds(y + i)
            }
        }
    }
}

// MARK: Constraints, updates and solving

extension LPRelaxation {
    /// Adds `Σ c_j y_j ≤ rhs` over the outputs (the violation conjunction of a property).
    public func addOutputConstraint(coefficients: [Double], rhs: Double) {
        precondition(coefficients.count == network.outputSize, "expected \(network.outputSize) output coefficients")
        addConstraint(start: columnStart[network.output], coefficients: coefficients, rhs: rhs, depth: -1)
    }

    /// Adds `Σ a_i x_i ≤ rhs` over the inputs.
    public func addInputConstraint(coefficients: [Double], rhs: Double) {
        precondition(coefficients.count == network.inputSize, "expected \(network.inputSize) input coefficients")
        addConstraint(start: columnStart[0], coefficients: coefficients, rhs: rhs, depth: -1)
    }

    private func addConstraint(start: Int, coefficients: [Double], rhs: Double, depth: Int) {
        var cols: [Int32] = [], vals: [Double] = []
        for (j, c) in coefficients.enumerated() where c != 0 {
            cols.append(Int32(start + j))
            vals.append(c)
        }
        let i = appendRow(cols, vals, lower: -.infinity, upper: rhs, depth: depth)
        guard trivialInfeasibleLayer == nil else { return }
        glp_add_rows(problem, 1)
        var c1: [Int32] = [0] + cols, v1: [Double] = [0] + vals
        glp_set_mat_row(problem, Int32(i), Int32(cols.count), &c1, &v1)
        setRowBounds(i)
    }

    /// Re-fixes phases and tightens bounds in place, keeping the simplex basis for a warm re-solve.
    /// `bounds` must be sound for the LP's box and the new `assignment`.
    public func update(bounds: NetworkBounds, assignment: PhaseAssignment) {
        precondition(bounds.nodes.count == network.nodes.count, "update needs per-node bounds")
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
        for (k, node) in network.nodes.enumerated() where k > 0 {
            let start = columnStart[k]
            let b = bounds.nodes[k]
            for i in 0..<node.size {
                columnLower[start + i] = b.lower[i]
                columnUpper[start + i] = b.upper[i]
            }
        }
        for j in columnStart[1]..<columnLower.count { setColumnBounds(j) }
        applyPhases()
    }

    /// Minimises `Σ c_j y_j` over the outputs. `value` is a sound lower bound of the LP minimum
    /// (hence of the objective over box ∧ assignment ∧ added constraints); `input` is the LP's
    /// optimal input point.
    public func minimize(outputCoefficients: [Double], deadline: ContinuousClock.Instant?) -> LPOutcome {
        precondition(outputCoefficients.count == network.outputSize, "expected \(network.outputSize) output coefficients")
        let start = columnStart[network.output]
        var objective: [(Int, Double)] = []
        for (j, c) in outputCoefficients.enumerated() where c != 0 { objective.append((start + j, c)) }
        return solve(objective: objective, deadline: deadline)
    }

    /// Minimises (or, with `maximize`, maximises) the pre-activation of a ReLU neuron. When
    /// maximising, `value` is a sound *upper* bound of the maximum.
    public func minimize(preActivationOf neuron: NeuronID, maximize: Bool, deadline: ContinuousClock.Instant?) -> LPOutcome {
        let x = columnStart[network.nodes[reluNodes[neuron.layer]].inputs[0]] + neuron.index
        let outcome = solve(objective: [(x, maximize ? -1 : 1)], deadline: deadline)
        if maximize, case .optimal(let value, let input) = outcome {
            return .optimal(value: -value, input: input)
        }
        return outcome
    }

    /// The value of the last solution's variables for one node (GLPK's floating-point primal),
    /// for diagnostics and for tests.
    public func primalValues(ofNode k: Int) -> [Double] {
        guard trivialInfeasibleLayer == nil else { return [] }
        return (0..<network.nodes[k].size).map { glp_get_col_prim(problem, Int32(columnStart[k] + $0)) }
    }

    private func solve(objective: [(Int, Double)], deadline: ContinuousClock.Instant?) -> LPOutcome {
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
        parameters.meth = GLP_DUALP
        var code: Int32 = 0
        for attempt in 0..<3 {
            if let deadline {
                let left = deadline - ContinuousClock.now
                let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
                if ms <= 0 { return .timeout }
                parameters.tm_lim = Int32(clamping: ms)
            }
            code = glp_simplex(problem, &parameters)
            if code == GLP_EBADB || code == GLP_ESING || code == GLP_ECOND {
                // The warm basis went bad (e.g. after many updates): start from an advanced basis.
                glp_adv_basis(problem, 0)
                if attempt == 1 { parameters.meth = GLP_PRIMAL }
                continue
            }
            if code == GLP_EFAIL && attempt == 0 {
                glp_std_basis(problem)
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

    /// The LP's optimal input point, clamped into the box.
    private func optimalInput() -> [Double] {
        (0..<network.inputSize).map { i in
            let j = columnStart[0] + i
            return Swift.min(Swift.max(glp_get_col_prim(problem, Int32(j)), columnLower[j]), columnUpper[j])
        }
    }

    /// The rigorous lower bound of `cᵀz` over all `z` satisfying the column bounds and the row
    /// bounds weighted by `y`: `Σ_i min_{r_i ∈ [L_i, U_i]} y_i r_i + Σ_j min_{x_j ∈ [l_j, u_j]} d_j x_j`
    /// with `d = c − Aᵀy`, every term and sum rounded outward. Also returns which rows and
    /// columns contribute (non-zero weight on a finite bound).
    private func weakDualBound(objective: [(Int, Double)], rowDuals y: [Double]) -> (value: Double, rowsUsed: [Int], columnsUsed: [Int]) {
        let n = columnLower.count
        var d = [Double](repeating: 0, count: n)
        var dAbs = [Double](repeating: 0, count: n)
        var count = [Int32](repeating: 0, count: n)
        for (j, c) in objective { d[j] += c; dAbs[j] += Swift.abs(c); count[j] += 1 }
        var terms = 0.0, termsAbs = 0.0, termCount = 0
        var rowsUsed: [Int] = []
        for i in 1...Swift.max(rowCount, 1) where i <= rowCount {
            let yi = y[i]
            if yi == 0 { continue }
            let t = yi > 0 ? yi * rowLower[i] : yi * rowUpper[i]
            if !t.isFinite { return (-.infinity, [], []) }
            terms += t
            termsAbs += Swift.abs(t)
            termCount += 1
            rowsUsed.append(i)
            for e in rowStart[i - 1]..<rowStart[i] {
                let j = Int(rowColumns[e])
                let p = yi * rowValues[e]
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
            let l = columnLower[j], u = columnUpper[j]
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
        for i in 1...Swift.max(rowCount, 1) where i <= rowCount {
            let hasLower = rowLower[i].isFinite, hasUpper = rowUpper[i].isFinite
            if !hasLower && y[i] > 0 { y[i] = 0 }
            if !hasUpper && y[i] < 0 { y[i] = 0 }
            if !y[i].isFinite { y[i] = 0 }
        }
        return y
    }

    private func rigorousLowerBound(objective: [(Int, Double)]) -> Double {
        var y = [Double](repeating: 0, count: rowCount + 1)
        for i in 1...Swift.max(rowCount, 1) where i <= rowCount { y[i] = glp_get_row_dual(problem, Int32(i)) }
        return weakDualBound(objective: objective, rowDuals: projectedDuals(y)).value
    }

    /// Builds Farkas multipliers from the final (infeasible) basis: `π = B⁻ᵀ c_B` where `c_B` is
    /// ±1 on basic variables outside their bounds (the phase-1 objective GLPK was minimising),
    /// then checks `y = ±π` rigorously. Tries the whole phase-1 objective and single violated rows.
    private func certifyInfeasibility() -> LPOutcome {
        let m = rowCount
        if glp_bf_exists(problem) == 0 && glp_factorize(problem) != 0 {
            return .failed("LP infeasible, but its basis could not be factorised for a certificate")
        }
        var violated: [(position: Int, sign: Double, amount: Double)] = []
        for k in 1...Swift.max(m, 1) where k <= m {
            let h = Int(glp_get_bhead(problem, Int32(k)))
            let value: Double, lower: Double, upper: Double
            if h <= m {
                value = glp_get_row_prim(problem, Int32(h))
                (lower, upper) = (rowLower[h], rowUpper[h])
            } else {
                value = glp_get_col_prim(problem, Int32(h - m))
                (lower, upper) = (columnLower[h - m], columnUpper[h - m])
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
                    let depth = Swift.max(rowsUsed.map { rowDepth[$0] }.max() ?? -1,
                                          columnsUsed.map { columnDepth[$0] }.max() ?? -1)
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
