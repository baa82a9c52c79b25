/// Turning lazy ``ONNXView``s into IR nodes, folding their affine maps into the dense or conv
/// layer next to them where that is exact.
///
/// Two directions of folding exist. *Forward*: a consumer that is itself affine (dense, or conv
/// under conditions) absorbs the map into its weights. *Backward*: when a map must become a
/// value of its own (before a ReLU, a residual add, the output), it is folded into the affine
/// node that produced it, provided nobody else still reads that node's unmodified value.
extension ONNXImporter {
    /// A label for IR nodes made from the current ONNX node.
    var nodeLabel: String {
        current.name.isEmpty ? (current.output.first ?? current.opType) : current.name
    }

    /// How many reads of tensors that view IR node `index` are still to come.
    func liveReads(of index: Int) -> Int {
        viewNames[index].reduce(0) { $0 + max(readsLeft[$1] ?? 0, 0) }
    }

    /// An IR node holding exactly the values of `view`; `name` (when the view is a named tensor)
    /// is re-pointed at the result so later readers reuse it.
    mutating func materialize(_ view: ONNXView, name: String?) throws -> Int {
        if view.isIdentity { return view.node }
        let result: Int
        if view.source == nil, foldBack(view) {
            result = view.node
        } else if view.source == nil {
            let n = view.count
            result = appendNode(Node(operation: .elementwiseAffine(scale: view.scale ?? Array(repeating: 1, count: n),
                                                                    shift: view.shift ?? Array(repeating: 0, count: n)),
                                     inputs: [view.node], shape: ONNXShape.withoutBatch(view.shape), name: nodeLabel))
        } else {
            result = try appendDense(pre: nil, bias: Array(repeating: 0, count: view.count), over: view, outputShape: view.shape)
        }
        if let name { define(name, .computed(ONNXView(node: result, shape: view.shape))) }
        return result
    }

    /// Folds `view`'s elementwise map into the node that produced it, if that is exact and no
    /// other reader needs the node's original value. Returns whether it did.
    mutating func foldBack(_ view: ONNXView) -> Bool {
        let index = view.node
        guard index > 0, view.source == nil, irReaders[index] == 0, liveReads(of: index) <= 1 else { return false }
        let n = nodes[index].size
        guard view.count == n else { return false }
        let scale = view.scale ?? Array(repeating: 1, count: n)
        let shift = view.shift ?? Array(repeating: 0, count: n)
        switch nodes[index].operation {
        case .dense(var d):
            let columns = d.weights.columns
            for r in 0..<d.weights.rows {
                if scale[r] != 1 {
                    for j in 0..<columns { d.weights.values[r * columns + j] *= scale[r] }
                }
                d.bias[r] = scale[r] * d.bias[r] + shift[r]
            }
            nodes[index].operation = .dense(d)
        case .convolution(var c):
            // A conv bias is per channel, so the map must be constant over each channel.
            guard let s = Self.perChannel(scale, channels: c.outChannels),
                  let t = Self.perChannel(shift, channels: c.outChannels) else { return false }
            let perFilter = c.weights.count / max(c.outChannels, 1)
            for m in 0..<c.outChannels {
                if s[m] != 1 {
                    for j in (m * perFilter)..<((m + 1) * perFilter) { c.weights[j] *= s[m] }
                }
                c.bias[m] = s[m] * c.bias[m] + t[m]
            }
            nodes[index].operation = .convolution(c)
        case .elementwiseAffine(let s0, let t0):
            nodes[index].operation = .elementwiseAffine(scale: (0..<n).map { scale[$0] * s0[$0] },
                                                        shift: (0..<n).map { scale[$0] * t0[$0] + shift[$0] })
        case .input, .add, .relu:
            return false
        }
        return true
    }

    /// The per-channel values of a `[C, …]` array that is constant over each channel, else nil.
    static func perChannel(_ values: [Double], channels: Int) -> [Double]? {
        guard channels > 0, values.count % channels == 0 else { return nil }
        let block = values.count / channels
        var result: [Double] = []
        for c in 0..<channels {
            let first = values[c * block]
            for j in (c * block)..<((c + 1) * block) where values[j] != first { return nil }
            result.append(first)
        }
        return result
    }

    /// Appends a dense node computing `pre · tensor + bias`, where `tensor` is the value `view`
    /// describes; the view's map is folded into the weights so the node reads the view's IR node
    /// directly. `pre == nil` stands for the identity (a plain gather).
    mutating func appendDense(pre: Matrix?, bias: [Double], over view: ONNXView, outputShape: [Int]) throws -> Int {
        let rows = pre?.rows ?? view.count
        let columns = nodes[view.node].size
        guard ONNXShape.elementCount([rows, columns], limit: ONNXLimits.maxMatrixEntries) != nil else {
            throw unsupported("expressing this operation as a dense layer would need a \(rows) × \(columns) matrix, more than \(ONNXLimits.maxMatrixEntries) entries")
        }
        var bias = bias
        let weights: Matrix
        if let pre, view.source == nil, view.scale == nil {
            weights = pre
            if let shift = view.shift { for (r, v) in pre.multiplied(by: shift).enumerated() { bias[r] += v } }
        } else {
            var w = Matrix(rows: rows, columns: columns)
            for i in 0..<view.count {
                let s = view.source?[i] ?? i
                let sc = view.scale?[i] ?? 1
                let sh = view.shift?[i] ?? 0
                if let pre {
                    for r in 0..<rows {
                        let p = pre.values[r * pre.columns + i]
                        if p == 0 { continue }
                        if s >= 0 { w.values[r * columns + s] += p * sc }
                        bias[r] += p * sh
                    }
                } else {
                    if s >= 0 { w.values[i * columns + s] += sc }
                    bias[i] += sh
                }
            }
            weights = w
        }
        return appendNode(Node(operation: .dense(DenseLayer(weights: weights, bias: bias)), inputs: [view.node],
                               shape: ONNXShape.withoutBatch(outputShape), name: nodeLabel))
    }

    /// Node `index`, or an identity node over it, whose ``Node/shape`` is `shape` (a convolution
    /// needs its input labelled `[C, H, W]`, but a dense layer or reshape may have left it flat).
    mutating func withShape(_ index: Int, _ shape: [Int]) -> Int {
        if nodes[index].shape == shape {
            shapeLocked[index] = true
            return index
        }
        if !shapeLocked[index] {
            nodes[index].shape = shape
            shapeLocked[index] = true
            return index
        }
        let n = nodes[index].size
        let relabelled = appendNode(Node(operation: .elementwiseAffine(scale: Array(repeating: 1, count: n),
                                                                        shift: Array(repeating: 0, count: n)),
                                         inputs: [index], shape: shape, name: nodeLabel + "_reshape"))
        shapeLocked[relabelled] = true
        return relabelled
    }
}
