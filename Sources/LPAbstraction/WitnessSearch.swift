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
    /// Phases every witness must show (the region is the box intersected with them); `nil` for
    /// the whole box. A point counts only when its enclosure puts each fixed neuron in its phase.
    var region: PhaseAssignment?

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
        if let region {
            for (l, b) in enclosure.preActivation.enumerated() {
                for (i, phase) in region.phases[l].enumerated() where phase != nil {
                    if phase == .active ? b.lower[i] < 0 : b.upper[i] > 0 { return 0 }   // outside the region
                }
            }
        }
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

/// Forward values and the input gradient of one ReLU pre-activation, addressed by ReLU layer and
/// neuron: an adapter over `Network.NetworkGradient`, whose backward pass can start at any node.
///
/// A search aid for witnesses only: whatever it finds is re-checked by ``WitnessBook/record(_:)``.
struct PreActivationGradient {
    /// Node index of each ReLU layer's pre-activation (the ReLU's input node).
    let preActivationNodes: [Int]
    private var engine: NetworkGradient
    /// The last node the forward pass needs: nothing after the last pre-activation matters here.
    private let last: Int
    private var inputGradient: [Double] = []

    init(network: Network) {
        preActivationNodes = network.reluNodes.map { network.nodes[$0].inputs[0] }
        engine = NetworkGradient(network: network)
        last = preActivationNodes.max() ?? 0
    }

    var network: Network { engine.network }

    /// The pre-activations of every ReLU layer after the last ``forward(_:)``.
    var preActivations: [[Double]] { preActivationNodes.map { engine.values(node: $0) } }

    /// Pre-activation `i` of ReLU layer `layer` after the last ``forward(_:)``.
    func preActivation(layer: Int, index i: Int) -> Double {
        engine.value(node: preActivationNodes[layer], index: i)
    }

    /// Runs the network on `input` up to the last pre-activation (the output is not needed).
    mutating func forward(_ input: [Double]) {
        engine.forward(input, through: last)
    }

    /// The gradient of pre-activation `i` of ReLU layer `layer` with respect to the input, at the
    /// point of the last ``forward(_:)``.
    mutating func gradient(layer: Int, index i: Int) -> [Double] {
        engine.backward(from: preActivationNodes[layer], index: i, into: &inputGradient)
        return inputGradient
    }
}
