/// Forward values and reverse-mode input gradients of a ``Network`` in `Double`, with reusable
/// buffers.
///
/// Attacks (the falsifier, the witness search of the stable-neuron detector, the equivalence
/// check of compression) run thousands of forward and backward passes, so every node's value and
/// gradient live in one flat buffer each, allocated once, instead of the per-node arrays
/// ``Network/nodeValues(_:)`` builds.
///
/// The backward pass can start at any node: at the output with the coefficients of a linear
/// objective (``backward(outputSeed:into:)``), or at one value of an inner node such as a ReLU's
/// pre-activation (``backward(from:index:into:)``).
///
/// It is a search aid only: sums are reordered for speed, so values differ from
/// ``Network/evaluate(_:)`` by rounding, and anything found with it must be re-checked by the
/// caller. At a ReLU kink (pre-activation exactly 0) the gradient uses the subgradient 0.
public struct NetworkGradient: Sendable {
    /// The network being differentiated.
    public let network: Network
    /// Start of each node's values (and gradients) in ``values`` / ``gradients``.
    @usableFromInline let offsets: [Int]
    /// Number of values of each node.
    @usableFromInline let sizes: [Int]
    /// All node values of the last forward pass, node `i` at `offsets[i]..<offsets[i] + sizes[i]`.
    @usableFromInline var values: [Double]
    /// Gradient of the last backward pass's objective with respect to every node value.
    private var gradients: [Double]
    /// The last node the last ``forward(_:through:)`` computed (`-1` before the first).
    public private(set) var computedThrough = -1

    /// Prepares buffers for `network`.
    public init(network: Network) {
        self.network = network
        var offsets: [Int] = []
        var sizes: [Int] = []
        var total = 0
        for node in network.nodes {
            offsets.append(total)
            sizes.append(node.size)
            total += node.size
        }
        self.offsets = offsets
        self.sizes = sizes
        values = [Double](repeating: 0, count: total)
        gradients = [Double](repeating: 0, count: total)
    }

    /// Number of network inputs.
    public var inputSize: Int { sizes[0] }
    /// Number of network outputs.
    public var outputSize: Int { sizes[network.output] }

    /// Output value `j` of the last forward pass.
    @inlinable @inline(__always)
    public func output(_ j: Int) -> Double { values[offsets[network.output] + j] }

    /// Value `index` of node `node` after the last forward pass (which must have reached `node`).
    @inlinable @inline(__always)
    public func value(node: Int, index: Int) -> Double { values[offsets[node] + index] }

    /// All values of node `node` after the last forward pass, as a new array.
    public func values(node: Int) -> [Double] {
        Array(values[offsets[node]..<(offsets[node] + sizes[node])])
    }

    /// The outputs of the last forward pass as a new array.
    public var outputs: [Double] { values(node: network.output) }

    /// Runs the network on `input` up to node `last` (default: ``Network/output``); afterwards
    /// ``output(_:)`` and ``value(node:index:)`` read the result.
    ///
    /// Nodes after `last` cannot influence it (topological order) and are skipped, so a caller that
    /// only needs inner values (pre-activations) does not pay for the rest of the network.
    public mutating func forward(_ input: [Double], through last: Int? = nil) {
        precondition(input.count == inputSize, "expected \(inputSize) input values, got \(input.count)")
        let last = last ?? network.output
        precondition(last >= 0 && last < network.nodes.count, "node \(last) is out of range")
        let nodes = network.nodes
        let offsets = self.offsets
        let sizes = self.sizes
        values.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            input.withUnsafeBufferPointer { x in
                for i in 0..<sizes[0] { base[i] = x[i] }
            }
            guard last > 0 else { return }
            for index in 1...last {
                let node = nodes[index]
                let y = base + offsets[index]
                let n = sizes[index]
                let x = base + offsets[node.inputs.first ?? 0]
                switch node.operation {
                case .input:
                    for k in 0..<n { y[k] = base[k] }
                case .dense(let d):
                    Self.denseForward(d, x: x, y: y)
                case .convolution(let c):
                    c.weights.withUnsafeBufferPointer { w in
                        ConvolutionGeometry(c).forward(UnsafePointer(x), weights: w, bias: c.bias, into: y)
                    }
                case .elementwiseAffine(let scale, let shift):
                    for k in 0..<n { y[k] = scale[k] * x[k] + shift[k] }
                case .add:
                    let z = base + offsets[node.inputs[1]]
                    for k in 0..<n { y[k] = x[k] + z[k] }
                case .relu:
                    for k in 0..<n { y[k] = x[k] > 0 ? x[k] : 0 }
                }
            }
        }
        computedThrough = last
    }

    /// Gradient with respect to the input of `Σ outputSeed[j] · output[j]`, at the point of the
    /// last ``forward(_:through:)``, written into `inputGradient` (resized to the input size).
    ///
    /// The seed is the coefficient vector of a linear objective over the outputs, so one backward
    /// pass gives the gradient of any constraint's slack (input terms are added by the caller).
    public mutating func backward(outputSeed: [Double], into inputGradient: inout [Double]) {
        backward(from: network.output, seed: outputSeed, into: &inputGradient)
    }

    /// Gradient with respect to the input of value `index` of node `node` (e.g. one ReLU
    /// pre-activation), at the point of the last ``forward(_:through:)``.
    public mutating func backward(from node: Int, index: Int, into inputGradient: inout [Double]) {
        precondition(index >= 0 && index < sizes[node], "value \(index) is out of range for node \(node)")
        runBackward(from: node, into: &inputGradient) { g in g[index] = 1 }
    }

    /// Gradient with respect to the input of `Σ seed[k] · value[k]` over the values of node
    /// `node`, at the point of the last ``forward(_:through:)``.
    public mutating func backward(from node: Int, seed: [Double], into inputGradient: inout [Double]) {
        precondition(seed.count == sizes[node], "expected \(sizes[node]) seed values, got \(seed.count)")
        runBackward(from: node, into: &inputGradient) { g in
            seed.withUnsafeBufferPointer { s in
                for k in 0..<s.count { g[k] = s[k] }
            }
        }
    }

    /// The reverse sweep from `start` down to the input; `seed` writes the start node's gradient.
    private mutating func runBackward(from start: Int, into inputGradient: inout [Double],
                                      seed: (UnsafeMutablePointer<Double>) -> Void) {
        // The ReLU masks come from the forward values, which must cover every node the sweep visits.
        precondition(start <= computedThrough, "backward from node \(start) needs a forward pass through it")
        let nodes = network.nodes
        let offsets = self.offsets
        let sizes = self.sizes
        let used = offsets[start] + sizes[start]
        values.withUnsafeBufferPointer { valueBuffer in
            let v = valueBuffer.baseAddress!
            gradients.withUnsafeMutableBufferPointer { gradientBuffer in
                let g = gradientBuffer.baseAddress!
                // Every node's gradient accumulates contributions from all its consumers
                // (residual connections read a node twice), so start from zero.
                for k in 0..<used { g[k] = 0 }
                seed(g + offsets[start])
                guard start > 0 else { return }
                for index in stride(from: start, through: 1, by: -1) {
                    let node = nodes[index]
                    let gy = UnsafePointer(g + offsets[index])
                    let n = sizes[index]
                    guard let source = node.inputs.first else { continue }
                    let gx = g + offsets[source]
                    switch node.operation {
                    case .input:
                        for k in 0..<n { g[k] += gy[k] }
                    case .dense(let d):
                        Self.denseBackward(d, gy: gy, gx: gx)
                    case .convolution(let c):
                        // The gradient of a convolution is its transpose applied to `gy`.
                        c.weights.withUnsafeBufferPointer { w in
                            ConvolutionGeometry(c).accumulateTransposed(gy, weights: w, into: gx)
                        }
                    case .elementwiseAffine(let scale, _):
                        for k in 0..<n { gx[k] += scale[k] * gy[k] }
                    case .add:
                        let gz = g + offsets[node.inputs[1]]
                        for k in 0..<n { gx[k] += gy[k] }
                        for k in 0..<n { gz[k] += gy[k] }
                    case .relu:
                        let x = v + offsets[source]
                        for k in 0..<n where x[k] > 0 { gx[k] += gy[k] }
                    }
                }
            }
        }
        if inputGradient.count != sizes[0] {
            inputGradient = [Double](repeating: 0, count: sizes[0])
        }
        for k in 0..<sizes[0] { inputGradient[k] = gradients[k] }
    }

    // MARK: Kernels

    /// `y = W x + b`.
    private static func denseForward(_ d: DenseLayer, x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>) {
        let rows = d.weights.rows, columns = d.weights.columns
        d.weights.values.withUnsafeBufferPointer { w in
            d.bias.withUnsafeBufferPointer { b in
                // Four partial sums: the compiler may not reorder a floating-point reduction by
                // itself, and independent accumulators let it vectorise and pipeline the loop.
                let blocked = columns & ~3
                for i in 0..<rows {
                    let row = w.baseAddress! + i * columns
                    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                    var j = 0
                    while j < blocked {
                        s0 += row[j] * x[j]
                        s1 += row[j + 1] * x[j + 1]
                        s2 += row[j + 2] * x[j + 2]
                        s3 += row[j + 3] * x[j + 3]
                        j += 4
                    }
                    while j < columns {
                        s0 += row[j] * x[j]
                        j += 1
                    }
                    y[i] = ((s0 + s1) + (s2 + s3)) + b[i]
                }
            }
        }
    }

    /// `gx += Wᵀ gy`, row by row so the weights are read in storage order; rows with a zero
    /// gradient (inactive ReLUs downstream) are skipped.
    private static func denseBackward(_ d: DenseLayer, gy: UnsafePointer<Double>, gx: UnsafeMutablePointer<Double>) {
        let rows = d.weights.rows, columns = d.weights.columns
        d.weights.values.withUnsafeBufferPointer { w in
            for i in 0..<rows {
                let gi = gy[i]
                if gi == 0 { continue }
                let row = i * columns
                for j in 0..<columns { gx[j] += w[row + j] * gi }
            }
        }
    }
}
