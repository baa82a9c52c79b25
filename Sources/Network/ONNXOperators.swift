/// One import function per supported ONNX operator.
extension ONNXImporter {
    static let supportedOperators = [
        "Add", "Sub", "Mul", "Div", "Relu", "MatMul", "Gemm", "Conv", "BatchNormalization", "Flatten",
        "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Identity", "Dropout", "Constant",
    ]

    mutating func importCurrentNode() throws {
        guard current.domain.isEmpty || current.domain == "ai.onnx" else {
            throw unsupported("operators of domain '\(current.domain)' are not supported")
        }
        switch current.opType {
        case "Add", "Sub", "Mul", "Div": try importArithmetic()
        case "Relu": try importRelu()
        case "MatMul": try importMatMul()
        case "Gemm": try importGemm()
        case "Conv": try importConv()
        case "BatchNormalization": try importBatchNormalization()
        case "Flatten", "Reshape", "Squeeze", "Unsqueeze": try importReshape()
        case "Transpose": try importTranspose()
        case "Concat": try importConcat()
        case "Identity", "Dropout": try importIdentity()
        case "Constant": try importConstant()
        default:
            throw unsupported("the importer supports only ReLU networks built from "
                              + Self.supportedOperators.joined(separator: ", "))
        }
    }

    // MARK: - Attributes

    func attribute(_ name: String) -> Onnx_AttributeProto? {
        current.attribute.first { $0.name == name }
    }

    func intAttribute(_ name: String, default value: Int) throws -> Int {
        guard let a = attribute(name) else { return value }
        guard abs(a.i) <= Int64(ONNXLimits.maxAttribute) else { throw invalid("attribute \(name) = \(a.i) is out of range") }
        return Int(a.i)
    }

    func intsAttribute(_ name: String) throws -> [Int]? {
        guard let a = attribute(name) else { return nil }
        return try a.ints.map { v in
            guard abs(v) <= Int64(ONNXLimits.maxAttribute) else { throw invalid("attribute \(name) holds \(v), which is out of range") }
            return Int(v)
        }
    }

    func floatAttribute(_ name: String, default value: Double) -> Double {
        attribute(name).map { Double($0.f) } ?? value
    }

    func stringAttribute(_ name: String, default value: String) -> String {
        guard let a = attribute(name) else { return value }
        return String(decoding: a.s, as: UTF8.self)
    }

    /// An axis attribute or input normalised to `0..<rank`.
    func normalizedAxis(_ axis: Int, rank: Int, what: String = "axis") throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < rank else { throw invalid("\(what) \(axis) is out of range for rank \(rank)") }
        return a
    }

    // MARK: - Elementwise arithmetic

    mutating func importArithmetic() throws {
        let op = current.opType
        let a = try input(0), b = try input(1)
        switch (a, b) {
        case (.constant(let x), .constant(let y)):
            guard let shape = ONNXShape.broadcast(x.shape, y.shape) else {
                throw invalid("shapes \(x.shape) and \(y.shape) do not broadcast")
            }
            let xs = ONNXShape.expand(x.values, from: x.shape, to: shape)
            let ys = ONNXShape.expand(y.values, from: y.shape, to: shape)
            let values: [Double] = (0..<xs.count).map { i in
                switch op {
                case "Add": return xs[i] + ys[i]
                case "Sub": return xs[i] - ys[i]
                case "Mul": return xs[i] * ys[i]
                default: return xs[i] / ys[i]
                }
            }
            guard values.allSatisfy({ $0.isFinite }) else { throw invalid("constant arithmetic gives a non-finite value") }
            try setOutput(.constant(ONNXConstant(shape: shape, values: values)))
        case (.computed(let v), .constant(let c)):
            try setOutput(.computed(try applyConstant(op, to: v, constant: c, constantFirst: false)))
        case (.constant(let c), .computed(let v)):
            try setOutput(.computed(try applyConstant(op, to: v, constant: c, constantFirst: true)))
        case (.computed(let v1), .computed(var v2)):
            guard op == "Add" || op == "Sub" else {
                throw unsupported("\(op) of two input-dependent tensors is not affine")
            }
            guard let shape = ONNXShape.broadcast(v1.shape, v2.shape) else {
                throw invalid("shapes \(v1.shape) and \(v2.shape) do not broadcast")
            }
            let left = try broadcastView(v1, to: shape)
            if op == "Sub" {
                v2.scale = (v2.scale ?? Array(repeating: 1, count: v2.count)).map { -$0 }
                v2.shift = v2.shift.map { $0.map { -$0 } }
            }
            let right = try broadcastView(v2, to: shape)
            let leftNode = try materialize(left, name: left.shape == v1.shape ? current.input[0] : nil)
            let rightNode = try materialize(right, name: op == "Add" && right.shape == v2.shape ? current.input[1] : nil)
            let sum = appendNode(Node(operation: .add, inputs: [leftNode, rightNode], shape: ONNXShape.withoutBatch(shape), name: nodeLabel))
            try setOutput(.computed(ONNXView(node: sum, shape: shape)))
        }
    }

    /// `view` repeated along broadcast axes to `shape` (a pure re-indexing).
    func broadcastView(_ view: ONNXView, to shape: [Int]) throws -> ONNXView {
        if view.shape == shape { return view }
        guard ONNXShape.elementCount(shape) != nil else { throw invalid("broadcast shape \(shape) is too large") }
        let indices = ONNXShape.expand((0..<view.count).map(Double.init), from: view.shape, to: shape).map { Int($0) }
        return view.gathered(indices, shape: shape)
    }

    /// `view ∘ constant` for an elementwise `op`, folded into the view's affine map.
    func applyConstant(_ op: String, to input: ONNXView, constant c: ONNXConstant, constantFirst: Bool) throws -> ONNXView {
        guard let shape = ONNXShape.broadcast(input.shape, c.shape) else {
            throw invalid("shapes \(input.shape) and \(c.shape) do not broadcast")
        }
        var v = try broadcastView(input, to: shape)
        let k = ONNXShape.expand(c.values, from: c.shape, to: shape)
        let n = v.count
        var scale = v.scale ?? Array(repeating: 1, count: n)
        var shift = v.shift ?? Array(repeating: 0, count: n)
        switch (op, constantFirst) {
        case ("Add", _):
            for i in 0..<n { shift[i] += k[i] }
        case ("Sub", false):
            for i in 0..<n { shift[i] -= k[i] }
        case ("Sub", true):
            for i in 0..<n { scale[i] = -scale[i]; shift[i] = k[i] - shift[i] }
        case ("Mul", _):
            for i in 0..<n { scale[i] *= k[i]; shift[i] *= k[i] }
        case ("Div", false):
            guard !k.contains(0) else { throw invalid("divides by a constant that contains zero") }
            for i in 0..<n { scale[i] /= k[i]; shift[i] /= k[i] }
        default:
            throw unsupported("dividing a constant by an input-dependent tensor is not affine")
        }
        v.scale = scale
        v.shift = shift
        v.simplify()
        return v
    }

    // MARK: - ReLU

    mutating func importRelu() throws {
        switch try input(0) {
        case .constant(let c):
            try setOutput(.constant(ONNXConstant(shape: c.shape, values: c.values.map { max($0, 0) })))
        case .computed(let v):
            // ReLU commutes with a permutation, so a transpose before it need not become a dense
            // layer: undo the permutation on the affine part (which then folds as usual), apply
            // ReLU to the node and keep the re-indexing lazy.
            if let source = v.source, isPermutation(source, of: v.node) {
                var unpermuted = ONNXView(node: v.node, shape: nodes[v.node].shape)
                if let scale = v.scale {
                    var s = [Double](repeating: 1, count: source.count)
                    for (i, j) in source.enumerated() { s[j] = scale[i] }
                    unpermuted.scale = s
                }
                if let shift = v.shift {
                    var t = [Double](repeating: 0, count: source.count)
                    for (i, j) in source.enumerated() { t[j] = shift[i] }
                    unpermuted.shift = t
                }
                let node = try materialize(unpermuted, name: nil)
                let relu = appendNode(Node(operation: .relu, inputs: [node], shape: nodes[node].shape, name: nodeLabel))
                try setOutput(.computed(ONNXView(node: relu, shape: v.shape, source: source)))
                return
            }
            let node = try materialize(v, name: current.input[0])
            let relu = appendNode(Node(operation: .relu, inputs: [node], shape: ONNXShape.withoutBatch(v.shape), name: nodeLabel))
            try setOutput(.computed(ONNXView(node: relu, shape: v.shape)))
        }
    }

    func isPermutation(_ source: [Int], of node: Int) -> Bool {
        guard source.count == nodes[node].size else { return false }
        var seen = [Bool](repeating: false, count: source.count)
        for s in source {
            guard s >= 0, s < seen.count, !seen[s] else { return false }
            seen[s] = true
        }
        return true
    }

    // MARK: - MatMul and Gemm

    mutating func importMatMul() throws {
        switch (try input(0), try input(1)) {
        case (.computed(let v), .constant(let w)):
            // x[..., K] · W[K, N]: the same W applied to each of the L leading rows.
            guard w.shape.count == 1 || w.shape.count == 2 else {
                throw unsupported("a constant right operand of rank \(w.shape.count) is not supported (rank 1 or 2 is)")
            }
            let k = w.shape[0], n = w.shape.count == 2 ? w.shape[1] : 1
            guard let last = v.shape.last, last == k else {
                throw invalid("operand shapes \(v.shape) and \(w.shape) do not agree")
            }
            let l = v.count / max(k, 1)
            var outShape = v.shape.count == 1 ? [] : Array(v.shape.dropLast())
            if w.shape.count == 2 { outShape.append(n) }
            var pre = try makeMatrix(rows: l * n, columns: l * k)
            for li in 0..<l {
                for ni in 0..<n {
                    for ki in 0..<k { pre.values[(li * n + ni) * pre.columns + li * k + ki] = w.values[ki * n + ni] }
                }
            }
            let dense = try appendDense(pre: pre, bias: Array(repeating: 0, count: l * n), over: v, outputShape: outShape)
            try setOutput(.computed(ONNXView(node: dense, shape: outShape)))
        case (.constant(let w), .computed(let v)):
            // W[M, K] · x[..., K, N] (or W · x[K] for a vector).
            guard w.shape.count == 2 else {
                throw unsupported("a constant left operand of rank \(w.shape.count) is not supported (rank 2 is)")
            }
            let m = w.shape[0], k = w.shape[1]
            let vectorInput = v.shape.count == 1
            let n = vectorInput ? 1 : v.shape[v.shape.count - 1]
            let kv = vectorInput ? v.shape[0] : v.shape[v.shape.count - 2]
            guard kv == k else { throw invalid("operand shapes \(w.shape) and \(v.shape) do not agree") }
            let l = v.count / max(k * n, 1)
            let outShape = vectorInput ? [m] : Array(v.shape.dropLast(2)) + [m, n]
            var pre = try makeMatrix(rows: l * m * n, columns: l * k * n)
            for li in 0..<l {
                for mi in 0..<m {
                    for ni in 0..<n {
                        for ki in 0..<k {
                            pre.values[((li * m + mi) * n + ni) * pre.columns + (li * k + ki) * n + ni] = w.values[mi * k + ki]
                        }
                    }
                }
            }
            let dense = try appendDense(pre: pre, bias: Array(repeating: 0, count: l * m * n), over: v, outputShape: outShape)
            try setOutput(.computed(ONNXView(node: dense, shape: outShape)))
        case (.computed, .computed):
            throw unsupported("a product of two input-dependent tensors is not affine")
        case (.constant, .constant):
            throw unsupported("MatMul of two constants is not supported")
        }
    }

    func makeMatrix(rows: Int, columns: Int) throws -> Matrix {
        guard ONNXShape.elementCount([rows, columns], limit: ONNXLimits.maxMatrixEntries) != nil else {
            throw unsupported("expressing this operation as a dense layer would need a \(rows) × \(columns) matrix, more than \(ONNXLimits.maxMatrixEntries) entries")
        }
        return Matrix(rows: rows, columns: columns)
    }

    mutating func importGemm() throws {
        let alpha = floatAttribute("alpha", default: 1), beta = floatAttribute("beta", default: 1)
        let transA = try intAttribute("transA", default: 0) != 0, transB = try intAttribute("transB", default: 0) != 0
        let a = try input(0), b = try input(1)
        func dims(_ shape: [Int], _ role: String) throws -> (Int, Int) {
            guard shape.count == 2 else { throw invalid("\(role) must have rank 2, has shape \(shape)") }
            return (shape[0], shape[1])
        }
        let aShape: [Int], bShape: [Int]
        switch (a, b) {
        case (.computed(let v), .constant(let c)): (aShape, bShape) = (v.shape, c.shape)
        case (.constant(let c), .computed(let v)): (aShape, bShape) = (c.shape, v.shape)
        case (.computed, .computed): throw unsupported("a product of two input-dependent tensors is not affine")
        case (.constant, .constant): throw unsupported("Gemm of two constants is not supported")
        }
        let (a0, a1) = try dims(aShape, "A"), (b0, b1) = try dims(bShape, "B")
        let (m, k) = transA ? (a1, a0) : (a0, a1)
        let (kb, n) = transB ? (b1, b0) : (b0, b1)
        guard k == kb else { throw invalid("A \(aShape) and B \(bShape) do not agree (transA=\(transA), transB=\(transB))") }
        var bias = [Double](repeating: 0, count: m * n)
        if let cValue = try optionalInput(2) {
            guard case .constant(let c) = cValue else { throw unsupported("an input-dependent C operand is not supported") }
            guard let shape = ONNXShape.broadcast([m, n], c.shape), shape == [m, n] else {
                throw invalid("C of shape \(c.shape) does not broadcast to [\(m), \(n)]")
            }
            bias = ONNXShape.expand(c.values, from: c.shape, to: [m, n]).map { beta * $0 }
        }
        var pre: Matrix
        let view: ONNXView
        switch (a, b) {
        case (.computed(let v), .constant(let bc)):
            view = v
            pre = try makeMatrix(rows: m * n, columns: m * k)
            for i in 0..<m {
                for j in 0..<n {
                    for l in 0..<k {
                        let bv = transB ? bc.values[j * k + l] : bc.values[l * n + j]
                        let column = transA ? l * m + i : i * k + l
                        pre.values[(i * n + j) * pre.columns + column] = alpha * bv
                    }
                }
            }
        case (.constant(let ac), .computed(let v)):
            view = v
            pre = try makeMatrix(rows: m * n, columns: k * n)
            for i in 0..<m {
                for j in 0..<n {
                    for l in 0..<k {
                        let av = transA ? ac.values[l * m + i] : ac.values[i * k + l]
                        let column = transB ? j * k + l : l * n + j
                        pre.values[(i * n + j) * pre.columns + column] = alpha * av
                    }
                }
            }
        default:
            throw invalid("unreachable operand combination")
        }
        let dense = try appendDense(pre: pre, bias: bias, over: view, outputShape: [m, n])
        try setOutput(.computed(ONNXView(node: dense, shape: [m, n])))
    }

    // MARK: - Conv

    mutating func importConv() throws {
        guard case .computed(let v) = try input(0) else { throw unsupported("a convolution of a constant input is not supported") }
        let w = try constantInput(1, "weight")
        guard v.shape.count == 4, v.shape[0] == 1 else {
            throw unsupported("only 2-D convolutions over one [1, C, H, W] input are supported; the input has shape \(v.shape)")
        }
        let (channels, height, width) = (v.shape[1], v.shape[2], v.shape[3])
        guard w.shape.count == 4 else { throw invalid("weights must have shape [M, C/group, kH, kW], have \(w.shape)") }
        let (m, cpg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let groups = try intAttribute("group", default: 1)
        guard groups >= 1, channels % groups == 0, m % groups == 0, cpg == channels / groups, kh >= 1, kw >= 1 else {
            throw invalid("weights \(w.shape) do not fit an input with \(channels) channels in \(groups) groups")
        }
        if let kernel = try intsAttribute("kernel_shape"), kernel != [kh, kw] {
            throw invalid("kernel_shape \(kernel) disagrees with the weights' shape \(w.shape)")
        }
        let strides = try intsAttribute("strides") ?? [1, 1]
        let dilations = try intsAttribute("dilations") ?? [1, 1]
        guard strides.count == 2, strides.allSatisfy({ $0 >= 1 }) else { throw invalid("strides \(strides) are not two positive values") }
        guard dilations.count == 2, dilations.allSatisfy({ $0 >= 1 }) else { throw invalid("dilations \(dilations) are not two positive values") }
        var pads = try intsAttribute("pads") ?? [0, 0, 0, 0]
        guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else { throw invalid("pads \(pads) are not four non-negative values") }
        let autoPad = stringAttribute("auto_pad", default: "NOTSET")
        switch autoPad {
        case "NOTSET", "": break
        case "VALID": pads = [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            var p = [0, 0, 0, 0]
            for (axis, size) in [height, width].enumerated() {
                let k = [kh, kw][axis], s = strides[axis], d = dilations[axis]
                let out = (size + s - 1) / s
                let total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
                let small = total / 2, large = total - small
                p[axis] = autoPad == "SAME_UPPER" ? small : large
                p[axis + 2] = autoPad == "SAME_UPPER" ? large : small
            }
            pads = p
        default:
            throw invalid("auto_pad '\(autoPad)' is not a valid value")
        }
        var bias = [Double](repeating: 0, count: m)
        if let b = try optionalInput(2) {
            guard case .constant(let bc) = b else { throw unsupported("an input-dependent bias is not affine") }
            guard bc.count == m else { throw invalid("bias has \(bc.count) values for \(m) output channels") }
            bias = bc.values
        }
        var conv = Convolution(weights: w.values, bias: bias, inputShape: [channels, height, width], outChannels: m,
                               kernel: (kh, kw), strides: (strides[0], strides[1]),
                               pads: (pads[0], pads[1], pads[2], pads[3]),
                               dilations: (dilations[0], dilations[1]), groups: groups)
        let outH = height + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1
        let outW = width + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1
        guard outH >= 0, outW >= 0 else { throw invalid("the kernel is larger than the padded input") }
        let outShape = conv.outputShape
        guard ONNXShape.elementCount(outShape) != nil else { throw invalid("output shape \(outShape) is too large") }

        // Fold the input's pending affine map into the filters where that is exact: a per-channel
        // scale always is (scaled zero padding stays zero); a per-channel shift only without
        // padding, since the padded border would otherwise see the shift too.
        var source = v
        if v.source == nil, !v.isIdentity {
            let scale = v.scale.map { Self.perChannel($0, channels: channels) } ?? Array(repeating: 1, count: channels)
            let shift = v.shift.map { Self.perChannel($0, channels: channels) } ?? Array(repeating: 0, count: channels)
            let padded = pads.contains { $0 > 0 }
            if let scale, let shift, !padded || shift.allSatisfy({ $0 == 0 }) {
                let perFilter = cpg * kh * kw
                for f in 0..<m {
                    let group = f / (m / groups)
                    for ci in 0..<cpg {
                        let channel = group * cpg + ci
                        for j in 0..<(kh * kw) {
                            let index = f * perFilter + ci * kh * kw + j
                            conv.bias[f] += w.values[index] * shift[channel]
                            conv.weights[index] = w.values[index] * scale[channel]
                        }
                    }
                }
                source = ONNXView(node: v.node, shape: v.shape)
            }
        }
        let node = withShape(try materialize(source, name: source.isIdentity ? nil : current.input[0]),
                             [channels, height, width])
        let result = appendNode(Node(operation: .convolution(conv), inputs: [node], shape: outShape, name: nodeLabel))
        try setOutput(.computed(ONNXView(node: result, shape: [1] + outShape)))
    }

    // MARK: - BatchNormalization

    mutating func importBatchNormalization() throws {
        guard try intAttribute("training_mode", default: 0) == 0 else {
            throw unsupported("training mode is not supported (inference only)")
        }
        guard case .computed(let v) = try input(0) else { throw unsupported("batch normalisation of a constant is not supported") }
        guard v.shape.count >= 2 else { throw invalid("input of shape \(v.shape) has no channel axis") }
        let channels = v.shape[1]
        let gamma = try constantInput(1, "scale"), beta = try constantInput(2, "bias")
        let mean = try constantInput(3, "mean"), variance = try constantInput(4, "variance")
        for (c, role) in [(gamma, "scale"), (beta, "bias"), (mean, "mean"), (variance, "variance")] where c.count != channels {
            throw invalid("\(role) has \(c.count) values for \(channels) channels")
        }
        let epsilon = floatAttribute("epsilon", default: 1e-5)
        var factor = [Double](repeating: 0, count: channels), offset = [Double](repeating: 0, count: channels)
        for c in 0..<channels {
            let denominator = (variance.values[c] + epsilon).squareRoot()
            guard denominator > 0, denominator.isFinite else { throw invalid("variance + epsilon is not positive for channel \(c)") }
            factor[c] = gamma.values[c] / denominator
            offset[c] = beta.values[c] - mean.values[c] * factor[c]
        }
        let inner = v.shape.dropFirst(2).reduce(1, *)
        let channelOf = (0..<v.count).map { ($0 / max(inner, 1)) % channels }
        let scaleTensor = ONNXConstant(shape: v.shape, values: channelOf.map { factor[$0] })
        let shiftTensor = ONNXConstant(shape: v.shape, values: channelOf.map { offset[$0] })
        let scaled = try applyConstant("Mul", to: v, constant: scaleTensor, constantFirst: false)
        try setOutput(.computed(try applyConstant("Add", to: scaled, constant: shiftTensor, constantFirst: false)))
    }

    // MARK: - Re-indexing operators

    mutating func importReshape() throws {
        let value = try input(0)
        let shape: [Int]
        switch value { case .constant(let c): shape = c.shape; case .computed(let v): shape = v.shape }
        let count = shape.reduce(1, *)
        var newShape: [Int]
        switch current.opType {
        case "Flatten":
            let axis = try intAttribute("axis", default: 1)
            let a = axis < 0 ? axis + shape.count : axis
            guard a >= 0 && a <= shape.count else { throw invalid("axis \(axis) is out of range for rank \(shape.count)") }
            newShape = [shape[..<a].reduce(1, *), shape[a...].reduce(1, *)]
        case "Reshape":
            guard let requested = try constantInput(1, "shape").integers else { throw invalid("the shape input is not integral") }
            let allowZero = try intAttribute("allowzero", default: 0) != 0
            newShape = []
            var inferred: Int?
            for (i, d) in requested.enumerated() {
                if d == 0 && !allowZero {
                    guard i < shape.count else { throw invalid("shape \(requested) copies dimension \(i) that the input \(shape) lacks") }
                    newShape.append(shape[i])
                } else if d == -1 {
                    guard inferred == nil else { throw invalid("shape \(requested) has more than one -1") }
                    inferred = i
                    newShape.append(1)
                } else {
                    guard d >= 0 else { throw invalid("shape \(requested) has a negative dimension") }
                    newShape.append(d)
                }
            }
            guard let known = ONNXShape.elementCount(newShape) else { throw invalid("shape \(requested) is too large") }
            if let i = inferred {
                guard known > 0, count % known == 0 else { throw invalid("cannot reshape \(shape) to \(requested)") }
                newShape[i] = count / known
            }
        case "Squeeze":
            var axes: [Int]?
            if current.input.count > 1, !current.input[1].isEmpty {
                axes = try constantInput(1, "axes").integers
            } else {
                axes = try intsAttribute("axes")
            }
            if let axes {
                let normalized = Set(try axes.map { try normalizedAxis($0, rank: shape.count) })
                for a in normalized where shape[a] != 1 { throw invalid("cannot squeeze axis \(a) of size \(shape[a])") }
                newShape = shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
            } else {
                newShape = shape.filter { $0 != 1 }
            }
        default: // Unsqueeze
            var axes: [Int]?
            if current.input.count > 1, !current.input[1].isEmpty {
                axes = try constantInput(1, "axes").integers
            } else {
                axes = try intsAttribute("axes")
            }
            guard let axes else { throw invalid("no axes given") }
            let rank = shape.count + axes.count
            let normalized = Set(try axes.map { try normalizedAxis($0, rank: rank) })
            guard normalized.count == axes.count else { throw invalid("axes \(axes) repeat an axis") }
            newShape = []
            var rest = shape.makeIterator()
            for i in 0..<rank { newShape.append(normalized.contains(i) ? 1 : (rest.next() ?? 1)) }
        }
        guard newShape.reduce(1, *) == count, ONNXShape.elementCount(newShape) != nil else {
            throw invalid("cannot reshape \(shape) (\(count) elements) to \(newShape)")
        }
        switch value {
        case .constant(var c):
            c.shape = newShape
            try setOutput(.constant(c))
        case .computed(var v):
            v.shape = newShape
            try setOutput(.computed(v))
        }
    }

    mutating func importTranspose() throws {
        let value = try input(0)
        let shape: [Int]
        switch value { case .constant(let c): shape = c.shape; case .computed(let v): shape = v.shape }
        let perm = try intsAttribute("perm") ?? Array((0..<shape.count).reversed())
        guard perm.count == shape.count, Set(perm) == Set(0..<shape.count) else {
            throw invalid("perm \(perm) is not a permutation of the \(shape.count) axes")
        }
        let (newShape, source) = ONNXShape.transposeIndices(shape, perm: perm)
        switch value {
        case .constant(let c):
            try setOutput(.constant(ONNXConstant(shape: newShape, values: source.map { c.values[$0] })))
        case .computed(let v):
            try setOutput(.computed(v.gathered(source, shape: newShape)))
        }
    }

    mutating func importConcat() throws {
        let parts = try current.input.indices.map { try input($0) }
        guard let first = parts.first else { throw invalid("has no inputs") }
        func shapeOf(_ value: ONNXValue) -> [Int] {
            switch value { case .constant(let c): return c.shape; case .computed(let v): return v.shape }
        }
        let rank = shapeOf(first).count
        guard let axisValue = attribute("axis")?.i, abs(axisValue) <= Int64(rank) else {
            throw invalid("needs an axis attribute within the rank \(rank)")
        }
        let axis = try normalizedAxis(Int(axisValue), rank: rank)
        var outShape = shapeOf(first)
        outShape[axis] = 0
        for part in parts {
            let s = shapeOf(part)
            guard s.count == rank, (0..<rank).allSatisfy({ $0 == axis || s[$0] == outShape[$0] }) else {
                throw invalid("input shapes \(parts.map(shapeOf)) do not agree outside axis \(axis)")
            }
            outShape[axis] += s[axis]
        }
        guard let count = ONNXShape.elementCount(outShape) else { throw invalid("output shape \(outShape) is too large") }
        let outer = outShape[..<axis].reduce(1, *), inner = outShape[(axis + 1)...].reduce(1, *)
        // Per output element: the node it reads (-1: a constant), the source index, scale, shift.
        var node = [Int](repeating: -1, count: count), source = [Int](repeating: -1, count: count)
        var scale = [Double](repeating: 1, count: count), shift = [Double](repeating: 0, count: count)
        var offset = 0
        for part in parts {
            let s = shapeOf(part), width = s[axis]
            for o in 0..<outer {
                for a in 0..<width {
                    for i in 0..<inner {
                        let from = (o * width + a) * inner + i
                        let to = (o * outShape[axis] + offset + a) * inner + i
                        switch part {
                        case .constant(let c):
                            shift[to] = c.values[from]
                        case .computed(let v):
                            let src = v.source?[from] ?? from
                            if src >= 0 { node[to] = v.node; source[to] = src }
                            scale[to] = v.scale?[from] ?? 1
                            shift[to] = v.shift?[from] ?? 0
                        }
                    }
                }
            }
            offset += width
        }
        let computedParts = parts.compactMap { part -> ONNXView? in
            if case .computed(let v) = part { return v } else { return nil }
        }
        guard let firstComputed = computedParts.first else {
            try setOutput(.constant(ONNXConstant(shape: outShape, values: shift)))
            return
        }
        let readNodes = Array(Set(node.filter { $0 >= 0 })).sorted()
        func view(over n: Int, withConstants: Bool) -> ONNXView {
            var v = ONNXView(node: n, shape: outShape,
                             source: (0..<count).map { node[$0] == n ? source[$0] : -1 },
                             scale: (0..<count).map { node[$0] == n ? scale[$0] : 1 },
                             shift: (0..<count).map { node[$0] == n || (node[$0] < 0 && withConstants) ? shift[$0] : 0 })
            v.simplify()
            return v
        }
        if readNodes.count <= 1 {
            // A single node (or only constant-derived elements of views): still a lazy view.
            let n = readNodes.first ?? firstComputed.node
            try setOutput(.computed(view(over: n, withConstants: true)))
            return
        }
        // Several nodes: embed each into the output with a gathering dense layer and sum them.
        var sum: Int?
        for (k, n) in readNodes.enumerated() {
            let part = try appendDense(pre: nil, bias: Array(repeating: 0, count: count),
                                       over: view(over: n, withConstants: k == 0), outputShape: outShape)
            if let previous = sum {
                sum = appendNode(Node(operation: .add, inputs: [previous, part], shape: ONNXShape.withoutBatch(outShape), name: nodeLabel))
            } else {
                sum = part
            }
        }
        try setOutput(.computed(ONNXView(node: sum ?? 0, shape: outShape)))
    }

    // MARK: - Pass-through and constants

    mutating func importIdentity() throws {
        if current.opType == "Dropout", let mode = try optionalInput(2) {
            guard case .constant(let c) = mode, c.values.allSatisfy({ $0 == 0 }) else {
                throw unsupported("training mode is not supported (inference only)")
            }
        }
        try setOutput(try input(0))
    }

    mutating func importConstant() throws {
        let what = "Constant node '\(currentName)'"
        if let a = attribute("value") {
            try setOutput(.constant(try ONNXConstant.decode(a.t, path: path, what: what)))
        } else if let a = attribute("value_float") {
            try setOutput(.constant(ONNXConstant(shape: [], values: [Double(a.f)])))
        } else if let a = attribute("value_floats") {
            try setOutput(.constant(ONNXConstant(shape: [a.floats.count], values: a.floats.map(Double.init))))
        } else if let a = attribute("value_int") {
            try setOutput(.constant(ONNXConstant(shape: [], values: [Double(a.i)])))
        } else if let a = attribute("value_ints") {
            try setOutput(.constant(ONNXConstant(shape: [a.ints.count], values: a.ints.map(Double.init))))
        } else {
            throw unsupported("only value, value_float(s) and value_int(s) constants are supported")
        }
    }
}
