import Network

/// The witness inputs collected so far, and for every ReLU neuron which witness (if any) shows it
/// rigorously positive or rigorously negative.
///
/// A sign is recorded only when it is a *fact about the real-valued network*: the point is pushed
/// through ``BoundPropagator`` with interval arithmetic on the degenerate box `[x, x]`, which gives
/// an outward-rounded enclosure of every pre-activation at `x`, and the sign counts only when that
/// enclosure excludes 0. A floating-point forward pass alone could get the sign of a pre-activation
/// near 0 wrong (CIFAR-100's layer-2 neuron 364 peaks at 1.7e-4), and one wrong sign would let a
/// stable neuron be called unstable, or worse, hide an error in a certificate.
struct WitnessBook {
    let propagator: BoundPropagator
    let box: Box
    /// Witness inputs, each inside the box.
    private(set) var points: [[Double]] = []
    /// `positive[layer][i]`: index into ``points`` of an input where the pre-activation is > 0.
    private(set) var positive: [[Int?]]
    /// `negative[layer][i]`: index into ``points`` of an input where the pre-activation is < 0.
    private(set) var negative: [[Int?]]
    /// Signs still wanted: a neuron certified stable, or already witnessed, wants nothing more.
    var wantPositive: [[Bool]]
    var wantNegative: [[Bool]]
    /// Number of rigorous enclosures computed (for statistics).
    private(set) var checks = 0

    init(propagator: BoundPropagator, box: Box, layerSizes: [Int]) {
        self.propagator = propagator
        self.box = box
        positive = layerSizes.map { [Int?](repeating: nil, count: $0) }
        negative = positive
        wantPositive = layerSizes.map { [Bool](repeating: true, count: $0) }
        wantNegative = wantPositive
    }

    /// Whether any wanted sign is still missing.
    var wantsAnything: Bool {
        wantPositive.contains { $0.contains(true) } || wantNegative.contains { $0.contains(true) }
    }

    /// Whether the floating-point pre-activations `values` (per ReLU layer) suggest that the point
    /// would supply a wanted sign; a cheap filter before the rigorous check.
    func isPromising(_ values: [[Double]]) -> Bool {
        for l in values.indices {
            let v = values[l], wp = wantPositive[l], wn = wantNegative[l]
            for i in v.indices where (wp[i] && v[i] > 0) || (wn[i] && v[i] < 0) { return true }
        }
        return false
    }

    /// Checks `x` (clamped into the box) rigorously and records it for every wanted sign it
    /// proves. Returns the number of wanted signs it supplied (0: the point is not kept).
    @discardableResult
    mutating func record(_ x: [Double]) -> Int {
        let point = x.indices.map { Swift.min(Swift.max(x[$0], box.lower[$0]), box.upper[$0]) }
        checks += 1
        let enclosure = propagator.bounds(box: Box(lower: point, upper: point), method: .interval)
        if enclosure.isInfeasible { return 0 }
        let index = points.count
        var supplied = 0
        for (l, b) in enclosure.preActivation.enumerated() {
            for i in b.lower.indices {
                if b.lower[i] > 0 && positive[l][i] == nil && wantPositive[l][i] {
                    positive[l][i] = index
                    wantPositive[l][i] = false
                    supplied += 1
                }
                if b.upper[i] < 0 && negative[l][i] == nil && wantNegative[l][i] {
                    negative[l][i] = index
                    wantNegative[l][i] = false
                    supplied += 1
                }
            }
        }
        if supplied > 0 { points.append(point) }
        return supplied
    }
}

/// Forward values and the input gradient of one ReLU pre-activation, in `Double`, with reusable
/// flat buffers (dense, convolution, elementwise affine, residual add, ReLU).
///
/// A search aid for witnesses only: whatever it finds is re-checked by ``WitnessBook/record(_:)``.
/// The logic mirrors `Verifier.NetworkGradient`, which this module cannot import; the difference
/// is that the backward pass starts at any node (a pre-activation), not only at the output. At a
/// ReLU kink the subgradient 0 is used.
struct PreActivationGradient {
    let network: Network
    /// Node index of each ReLU layer's pre-activation (the ReLU's input node).
    let preActivationNodes: [Int]
    private let offsets: [Int]
    private let sizes: [Int]
    private var values: [Double]
    private var gradients: [Double]

    init(network: Network) {
        self.network = network
        preActivationNodes = network.reluNodes.map { network.nodes[$0].inputs[0] }
        var offsets: [Int] = [], sizes: [Int] = []
        var total = 0
        for node in network.nodes {
            offsets.append(total)
            sizes.append(node.size)
            total += node.size
        }
        self.offsets = offsets
        self.sizes = sizes
        values = [Double](repeating: 0, count: total)
        gradients = values
    }

    /// The pre-activations of every ReLU layer after the last ``forward(_:)``.
    var preActivations: [[Double]] {
        preActivationNodes.map { p in Array(values[offsets[p]..<(offsets[p] + sizes[p])]) }
    }

    /// Pre-activation `i` of ReLU layer `layer` after the last ``forward(_:)``.
    func preActivation(layer: Int, index i: Int) -> Double {
        values[offsets[preActivationNodes[layer]] + i]
    }

    /// Runs the network on `input` up to the last pre-activation (the output is not needed).
    mutating func forward(_ input: [Double]) {
        precondition(input.count == sizes[0], "expected \(sizes[0]) input values, got \(input.count)")
        let nodes = network.nodes
        let last = preActivationNodes.max() ?? 0
        let offsets = self.offsets, sizes = self.sizes
        values.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            for i in 0..<sizes[0] { base[i] = input[i] }
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
                    let columns = d.weights.columns
                    d.weights.values.withUnsafeBufferPointer { w in
                        for i in 0..<d.weights.rows {
                            var s = 0.0
                            let row = i * columns
                            for j in 0..<columns { s += w[row + j] * x[j] }
                            y[i] = s + d.bias[i]
                        }
                    }
                case .convolution(let c):
                    let geometry = ConvolutionGeometry(c)
                    let input = Array(UnsafeBufferPointer(start: x, count: geometry.inputSize))
                    let out = geometry.forward(input, weights: c.weights)
                    let perChannel = n / c.outChannels
                    for k in 0..<n { y[k] = out[k] + c.bias[k / perChannel] }
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
    }

    /// The gradient of pre-activation `i` of ReLU layer `layer` with respect to the input, at the
    /// point of the last ``forward(_:)``.
    mutating func gradient(layer: Int, index i: Int) -> [Double] {
        let nodes = network.nodes
        let start = preActivationNodes[layer]
        let offsets = self.offsets, sizes = self.sizes
        values.withUnsafeBufferPointer { valueBuffer in
            let v = valueBuffer.baseAddress!
            gradients.withUnsafeMutableBufferPointer { gradientBuffer in
                let g = gradientBuffer.baseAddress!
                // Nodes read twice (residual connections) accumulate, so start from zero.
                for k in 0..<(offsets[start] + sizes[start]) { g[k] = 0 }
                g[offsets[start] + i] = 1
                guard start > 0 else { return }
                for index in stride(from: start, through: 1, by: -1) {
                    let node = nodes[index]
                    guard let source = node.inputs.first else { continue }
                    let gy = UnsafePointer(g + offsets[index])
                    let gx = g + offsets[source]
                    let n = sizes[index]
                    switch node.operation {
                    case .input:
                        break
                    case .dense(let d):
                        let columns = d.weights.columns
                        d.weights.values.withUnsafeBufferPointer { w in
                            for r in 0..<d.weights.rows {
                                let gr = gy[r]
                                if gr == 0 { continue }
                                let row = r * columns
                                for j in 0..<columns { gx[j] += w[row + j] * gr }
                            }
                        }
                    case .convolution(let c):
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
        return Array(gradients[0..<sizes[0]])
    }
}
