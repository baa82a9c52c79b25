import CGLPK
import Network

/// Our own exact copy of a GLPK model of a ReLU network over an input box, and the one place that
/// writes its rows.
///
/// ``LPRelaxation`` (triangle relaxation), ``StabilityMILP`` and ``NeuronMILP`` (big-M binaries)
/// all start from the same model: one column per value of every node (bounded by sound bounds, the
/// input columns by the box), one equality row per value of every affine node, and rows for each
/// ReLU in the encoding the caller picks. The copy is kept next to GLPK's because the LP derives
/// its rigorous dual bounds and Farkas certificates from the exact coefficients and bounds, never
/// from what GLPK reports back.
///
/// Columns and rows are 1-based like GLPK's (index 0 of every array is unused).
struct GLPKNetworkModel {
    let network: Network
    let reluNodes: [Int]
    /// The last node modelled: a MILP about one layer's pre-activations needs nothing after it.
    let lastNode: Int
    /// GLPK column of value 0 of each node `0...lastNode`.
    private(set) var columnStart: [Int] = []
    /// Column bounds.
    var columnLower: [Double] = [0], columnUpper: [Double] = [0]
    /// Whether a column is a binary variable (big-M phases, indicators).
    private(set) var columnIsBinary: [Bool] = [false]
    /// For each column, the last ReLU layer whose phases its bounds depend on (for conflicts).
    private(set) var columnDepth: [Int] = [0]
    /// The constraint matrix in compressed rows: row `i` holds entries `rowStart[i-1]..<rowStart[i]`.
    private(set) var rowStart: [Int] = [0]
    private(set) var rowColumns: [Int32] = []
    /// Row coefficients; ``LPRelaxation`` rewrites the triangle slopes in place.
    var rowValues: [Double] = []
    /// Row bounds (`-∞` / `+∞` where absent).
    var rowLower: [Double] = [0], rowUpper: [Double] = [0]
    /// For each row, the last ReLU layer whose phases its validity depends on: `-1` for the exact
    /// affine equalities and property rows, the neuron's layer for ReLU rows.
    private(set) var rowDepth: [Int] = [0]
    /// Per ReLU layer and neuron: stably inactive over every region the model will be used for, so
    /// left out. Its pre-activation row and ReLU rows stay empty and free, and its output (exactly
    /// 0) enters no later row: on image networks most of the matrix. Set before adding rows.
    var leftOut: [[Bool]]?

    /// Creates the columns of nodes `0...lastNode`, bounded by `bounds.nodes` (the input columns by
    /// `box`). The bounds must fit the network (see ``validate(_:box:network:)``).
    init(network: Network, box: Box, bounds: NetworkBounds, through lastNode: Int? = nil) {
        self.network = network
        reluNodes = network.reluNodes
        self.lastNode = lastNode ?? network.nodes.count - 1
        var nodeBounds = bounds.nodes
        nodeBounds[0] = LayerBounds(lower: box.lower, upper: box.upper)
        let depth = Self.nodeDepths(network, reluNodes: reluNodes)
        for (k, node) in network.nodes.enumerated() where k <= self.lastNode {
            columnStart.append(columnLower.count)
            for i in 0..<node.size {
                _ = addColumn(lower: nodeBounds[k].lower[i], upper: nodeBounds[k].upper[i], depth: depth[k])
            }
        }
    }

    /// Checks that `bounds` has one finite bound per node value of `network` (the rigorous dual
    /// bound needs every variable bounded), unless `bounds.isInfeasible` (then no solver will see
    /// the model: callers report the infeasibility without solving).
    static func validate(_ bounds: NetworkBounds, box: Box, network: Network) throws {
        guard bounds.nodes.count == network.nodes.count else {
            throw LPRelaxationError.invalidBounds("expected bounds for \(network.nodes.count) nodes, got \(bounds.nodes.count)")
        }
        for (k, node) in network.nodes.enumerated() {
            let b = k == 0 ? LayerBounds(lower: box.lower, upper: box.upper) : bounds.nodes[k]
            guard b.lower.count == node.size, b.upper.count == node.size else {
                throw LPRelaxationError.invalidBounds("node \(k) has \(b.lower.count) bounds, expected \(node.size)")
            }
            for i in 0..<node.size {
                guard b.lower[i].isFinite || bounds.isInfeasible, b.upper[i].isFinite || bounds.isInfeasible else {
                    throw LPRelaxationError.invalidBounds("node \(k) '\(node.name)' value \(i) has an infinite bound")
                }
            }
        }
    }

    /// For each node, the last ReLU layer that can influence its bounds: bounds of a ReLU's input
    /// node are clipped by that ReLU's phases, and everything downstream inherits them.
    private static func nodeDepths(_ network: Network, reluNodes: [Int]) -> [Int] {
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

    var rowCount: Int { rowStart.count - 1 }
    var columnCount: Int { columnLower.count - 1 }

    /// GLPK column of the pre-activation of ReLU layer `layer`'s neuron 0.
    func preActivationColumn(layer: Int) -> Int { columnStart[network.nodes[reluNodes[layer]].inputs[0]] }

    // MARK: Building

    /// Adds a column; returns its index.
    mutating func addColumn(lower: Double, upper: Double, binary: Bool = false, depth: Int = -1) -> Int {
        columnLower.append(lower)
        columnUpper.append(upper)
        columnIsBinary.append(binary)
        columnDepth.append(depth)
        return columnLower.count - 1
    }

    /// Appends a row (zero coefficients dropped); returns its index.
    @discardableResult
    mutating func appendRow(_ entries: [(Int, Double)], lower: Double, upper: Double, depth: Int = -1) -> Int {
        for (j, a) in entries where a != 0 {
            rowColumns.append(Int32(j))
            rowValues.append(a)
        }
        rowStart.append(rowColumns.count)
        rowLower.append(lower)
        rowUpper.append(upper)
        rowDepth.append(depth)
        return rowCount
    }

    /// The entries of row `i`.
    func entries(ofRow i: Int) -> (columns: ArraySlice<Int32>, values: ArraySlice<Double>) {
        (rowColumns[rowStart[i - 1]..<rowStart[i]], rowValues[rowStart[i - 1]..<rowStart[i]])
    }

    /// The phase a ReLU neuron must take: fixed by `assignment`, or forced by its bounds; `nil`
    /// when it may take either (the relaxation or the binary has to model both).
    static func phase(layer: Int, index i: Int, bounds: NetworkBounds, assignment: PhaseAssignment) -> Phase? {
        let pre = bounds.preActivation[layer]
        return assignment.phases[layer][i] ?? (pre.lower[i] >= 0 ? .active : (pre.upper[i] <= 0 ? .inactive : nil))
    }

    /// Per output of node `k`: whether it is the output of a left-out neuron (exactly 0); nil when
    /// `k` is not a ReLU node or leaves nothing out.
    private func leftOutOutputs(ofNode k: Int) -> [Bool]? {
        guard let leftOut, let layer = reluNodes.firstIndex(of: k), leftOut[layer].contains(true) else { return nil }
        return leftOut[layer]
    }

    /// Per value of node `k`: whether its only use is as a left-out neuron's pre-activation, so its
    /// defining row is not needed; nil when that does not apply.
    private func leftOutPreActivations(ofNode k: Int) -> [Bool]? {
        guard let leftOut, k != network.output else { return nil }
        let readers = network.nodes.indices.filter { network.nodes[$0].inputs.contains(k) }
        guard readers.count == 1, let layer = reluNodes.firstIndex(of: readers[0]), leftOut[layer].contains(true) else {
            return nil
        }
        return leftOut[layer]
    }

    /// Writes the exact equality rows of every affine node up to ``lastNode`` and, for each ReLU
    /// node, calls `encodeReLU(&self, layer, x, y)` with the first columns of its input `x` and
    /// output `y`: the caller's encoding (triangle or big-M) goes there.
    mutating func addNetworkRows(encodeReLU: (inout GLPKNetworkModel, _ layer: Int, _ x: Int, _ y: Int) -> Void) {
        var layer = 0
        for (k, node) in network.nodes.enumerated() where k <= lastNode {
            let out = columnStart[k]
            switch node.operation {
            case .input:
                break
            case .dense(let d):
                let inp = columnStart[node.inputs[0]], n = d.weights.columns
                let zeroInput = leftOutOutputs(ofNode: node.inputs[0])
                let unused = leftOutPreActivations(ofNode: k)
                for i in 0..<d.weights.rows {
                    if unused?[i] == true {
                        appendRow([], lower: -.infinity, upper: .infinity)
                        continue
                    }
                    var entries = [(out + i, 1.0)]
                    for j in 0..<n where zeroInput?[j] != true { entries.append((inp + j, -d.weights.values[i * n + j])) }
                    appendRow(entries, lower: d.bias[i], upper: d.bias[i])
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
                            appendRow(entries, lower: c.bias[m], upper: c.bias[m])
                        }
                    }
                }
            case .elementwiseAffine(let scale, let shift):
                let inp = columnStart[node.inputs[0]]
                for i in 0..<node.size { appendRow([(out + i, 1), (inp + i, -scale[i])], lower: shift[i], upper: shift[i]) }
            case .add:
                let a = columnStart[node.inputs[0]], b = columnStart[node.inputs[1]]
                for i in 0..<node.size {
                    if a == b {
                        appendRow([(out + i, 1), (a + i, -2)], lower: 0, upper: 0)
                    } else {
                        appendRow([(out + i, 1), (a + i, -1), (b + i, -1)], lower: 0, upper: 0)
                    }
                }
            case .relu:
                encodeReLU(&self, layer, columnStart[node.inputs[0]], out)
                layer += 1
            }
        }
    }

    /// Two rows per neuron of ReLU layer `layer`, both `y − x` for now: ``LPRelaxation`` sets their
    /// bounds and the second row's `x` coefficient from the phases and bounds (active, inactive or
    /// the triangle), in place, so that the simplex basis survives updates. Returns per neuron the
    /// two rows and the position in ``rowValues`` of the second row's `x` coefficient.
    mutating func addTriangleRows(layer: Int, x: Int, y: Int) -> [(first: Int, second: Int, slopeEntry: Int)] {
        var rows: [(first: Int, second: Int, slopeEntry: Int)] = []
        for i in 0..<network.nodes[reluNodes[layer]].size {
            if leftOut?[layer][i] == true {
                let first = appendRow([], lower: -.infinity, upper: .infinity, depth: layer)
                let second = appendRow([], lower: -.infinity, upper: .infinity, depth: layer)
                rows.append((first, second, -1))
                continue
            }
            let first = appendRow([(y + i, 1), (x + i, -1)], lower: 0, upper: .infinity, depth: layer)
            let second = appendRow([(y + i, 1), (x + i, -1)], lower: -.infinity, upper: 0, depth: layer)
            rows.append((first, second, rowStart[second - 1] + 1))
        }
        return rows
    }

    /// The exact big-M encoding of ReLU layer `layer`: neurons with a known phase become their
    /// linear piece; every other one gets a binary phase `z` with
    /// `y ≥ x, y ≥ 0, y ≤ x − L(1 − z), y ≤ U z`, `[L, U]` its pre-activation bounds.
    mutating func addBigMRows(layer: Int, x: Int, y: Int, bounds: NetworkBounds, assignment: PhaseAssignment) {
        let pre = bounds.preActivation[layer]
        for i in 0..<network.nodes[reluNodes[layer]].size {
            let l = pre.lower[i], u = pre.upper[i]
            switch Self.phase(layer: layer, index: i, bounds: bounds, assignment: assignment) {
            case .active?:
                columnLower[x + i] = Swift.max(columnLower[x + i], 0)
                appendRow([(y + i, 1), (x + i, -1)], lower: 0, upper: 0, depth: layer)
            case .inactive?:
                columnUpper[x + i] = Swift.min(columnUpper[x + i], 0)
                (columnLower[y + i], columnUpper[y + i]) = (0, 0)
            case nil:
                let z = addColumn(lower: 0, upper: 1, binary: true, depth: layer)
                columnLower[y + i] = Swift.max(columnLower[y + i], 0)
                columnUpper[y + i] = Swift.max(columnUpper[y + i], u)
                appendRow([(y + i, 1), (x + i, -1)], lower: 0, upper: .infinity, depth: layer)             // y ≥ x
                appendRow([(y + i, 1), (x + i, -1), (z, -l)], lower: -.infinity, upper: -l, depth: layer)  // y ≤ x − L(1 − z)
                appendRow([(y + i, 1), (z, -u)], lower: -.infinity, upper: 0, depth: layer)                // y ≤ U z
            }
        }
    }

    /// Keeps the neurons fixed by `region` at least `margin` inside their phase (`x ≥ margin` or
    /// `x ≤ −margin`). The MILPs here only propose witnesses, and a witness must lie in the region
    /// by a rigorous check: optima sit on the region's boundary (`x = 0`), where rounding decides.
    mutating func requireInterior(of region: PhaseAssignment, margin: Double) {
        for (layer, phases) in region.phases.enumerated() where network.nodes[reluNodes[layer]].inputs[0] <= lastNode {
            let x = preActivationColumn(layer: layer)
            for (i, phase) in phases.enumerated() {
                switch phase {
                case .active?: columnLower[x + i] = Swift.max(columnLower[x + i], margin)
                case .inactive?: columnUpper[x + i] = Swift.min(columnUpper[x + i], -margin)
                case nil: break
                }
            }
        }
    }

    // MARK: GLPK

    /// Creates every column (with its kind) and row in the empty GLPK problem `problem`.
    func load(into problem: OpaquePointer) {
        let n = columnCount, m = rowCount
        if n > 0 {
            glp_add_cols(problem, Int32(n))
            for j in 1...n {
                setColumnBounds(j, in: problem)
                if columnIsBinary[j] { glp_set_col_kind(problem, Int32(j), GLP_BV) }
            }
        }
        guard m > 0 else { return }
        glp_add_rows(problem, Int32(m))
        var ia: [Int32] = [0], ja: [Int32] = [0], ar: [Double] = [0]
        ia.reserveCapacity(rowColumns.count + 1)
        ja.reserveCapacity(rowColumns.count + 1)
        ar.reserveCapacity(rowColumns.count + 1)
        for i in 1...m {
            for e in rowStart[i - 1]..<rowStart[i] {
                ia.append(Int32(i))
                ja.append(rowColumns[e])
                ar.append(rowValues[e])
            }
            setRowBounds(i, in: problem)
        }
        glp_load_matrix(problem, Int32(ia.count - 1), ia, ja, ar)
    }

    /// Copies row `i`'s coefficients and bounds to GLPK.
    func setRow(_ i: Int, in problem: OpaquePointer) {
        let (columns, values) = entries(ofRow: i)
        var c: [Int32] = [0] + columns, v: [Double] = [0] + values
        glp_set_mat_row(problem, Int32(i), Int32(columns.count), &c, &v)
        setRowBounds(i, in: problem)
    }

    func setColumnBounds(_ j: Int, in problem: OpaquePointer) {
        let l = columnLower[j], u = columnUpper[j]
        glp_set_col_bnds(problem, Int32(j), l == u ? GLP_FX : GLP_DB, l, Swift.max(l, u))
    }

    func setRowBounds(_ i: Int, in problem: OpaquePointer) {
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
}

/// How one ``GLPKBranchAndBound/solve(_:inputSize:deadline:onSolution:)`` ended.
enum GLPKBranchAndBoundOutcome: Equatable {
    /// `onSolution` accepted a solution and the search was stopped there.
    case harvested
    /// The search finished (optimal, or no integer solution): `glp_mip_status` says which.
    case finished
    /// The deadline passed first.
    case timeout
    /// GLPK failed; nothing was learnt.
    case failed(String)
    /// GLPK failed one of its internal checks (``GLPKGuard``): the problem object is unusable and
    /// must not be deleted.
    case aborted
}

/// `glp_intopt` under a deadline, each integer-feasible solution's input part handed to a
/// callback (`GLP_IBINGO`): the MILPs here are witness generators, and a witness is only worth
/// anything after the caller's rigorous check.
enum GLPKBranchAndBound {
    /// What the `glp_intopt` callback needs; passed through `cb_info`.
    private final class CallbackContext {
        let inputSize: Int
        let deadline: ContinuousClock.Instant
        let onSolution: ([Double]) -> Bool
        let harvestRelaxations: Bool
        var harvested = false
        var timedOut = false
        init(inputSize: Int, deadline: ContinuousClock.Instant, harvestRelaxations: Bool,
             onSolution: @escaping ([Double]) -> Bool) {
            self.inputSize = inputSize
            self.deadline = deadline
            self.harvestRelaxations = harvestRelaxations
            self.onSolution = onSolution
        }
    }

    /// Runs branch-and-bound on `problem`, whose columns `1...inputSize` are the network inputs.
    /// `onSolution` receives the input part of every integer-feasible solution and returns whether
    /// to stop the search there (`.harvested`). With `harvestRelaxations` it also receives the input
    /// part of every node's LP optimum (`GLP_IHEUR`): any input of the box is a candidate witness
    /// once the caller has run the network on it, and the node LPs, pushed towards the objective,
    /// land on useful inputs long before branching makes them integer.
    static func solve(_ problem: OpaquePointer, inputSize: Int, deadline: ContinuousClock.Instant,
                      harvestRelaxations: Bool = false,
                      onSolution: @escaping ([Double]) -> Bool) -> GLPKBranchAndBoundOutcome {
        guard let ms = milliseconds(until: deadline) else { return .timeout }
        // glp_intopt without its presolver needs an optimal LP basis first; the presolver is off so
        // the callback sees our own columns. The basis of the last solve is kept (warm start).
        var simplex = glp_smcp()
        glp_init_smcp(&simplex)
        simplex.msg_lev = GLP_MSG_OFF
        simplex.tm_lim = ms
        var lpCode = GLPKGuard.simplex(problem, &simplex)
        if lpCode == GLP_EBADB || lpCode == GLP_ESING || lpCode == GLP_ECOND {
            glp_adv_basis(problem, 0)
            lpCode = GLPKGuard.simplex(problem, &simplex)
        }
        if lpCode == GLPKGuard.aborted { return .aborted }
        if lpCode == GLP_ETMLIM { return .timeout }
        if lpCode != 0 { return .failed("glp_simplex returned error code \(lpCode) on the MILP relaxation") }
        if glp_get_status(problem) != GLP_OPT {
            return .failed("the MILP's LP relaxation ended with status \(glp_get_status(problem))")
        }

        let context = CallbackContext(inputSize: inputSize, deadline: deadline, harvestRelaxations: harvestRelaxations,
                                      onSolution: onSolution)
        let info = Unmanaged.passRetained(context)
        defer { info.release() }
        var parameters = glp_iocp()
        glp_init_iocp(&parameters)
        parameters.msg_lev = GLP_MSG_OFF
        parameters.presolve = GLP_OFF
        parameters.mip_gap = 0
        guard let left = milliseconds(until: deadline) else { return .timeout }
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
            let reason = glp_ios_reason(tree)
            guard let problem = glp_ios_get_prob(tree) else { return }
            let x: [Double]
            if reason == GLP_IBINGO {
                x = (0..<context.inputSize).map { glp_mip_col_val(problem, Int32($0 + 1)) }
            } else if reason == GLP_IHEUR && context.harvestRelaxations {
                x = (0..<context.inputSize).map { glp_get_col_prim(problem, Int32($0 + 1)) }
            } else {
                return
            }
            if context.onSolution(x) {
                context.harvested = true
                glp_ios_terminate(tree)
            }
        }
        let code = GLPKGuard.intopt(problem, &parameters)
        if code == GLPKGuard.aborted { return .aborted }
        if context.harvested { return .harvested }
        if context.timedOut || code == GLP_ETMLIM { return .timeout }
        if code != 0 && code != GLP_ESTOP { return .failed("glp_intopt returned error code \(code)") }
        switch glp_mip_status(problem) {
        case GLP_OPT, GLP_NOFEAS: return .finished
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
