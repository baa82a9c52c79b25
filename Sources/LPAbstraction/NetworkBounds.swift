import Network

/// How ``BoundPropagator`` bounds the ReLU pre-activations.
public enum BoundMethod: Sendable {
    /// Interval arithmetic, layer by layer: cheapest, loosest.
    case interval
    /// Symbolic back-substitution to the input (CROWN / DeepPoly style), intersected with the
    /// interval bounds so it is never looser.
    case symbolic
}

/// Sound bounds on every ReLU pre-activation and on the outputs of a network over an input box
/// and a partial phase assignment.
///
/// All bounds hold in real arithmetic for every input of the box that agrees with the assignment
/// (see ``SoundArithmetic`` for how floating-point rounding is accounted for).
public struct NetworkBounds: Sendable {
    /// One entry per ReLU node (in ``Network/reluNodes`` order): bounds of the ReLU's *input*, with
    /// the assignment applied (fixed active ⇒ lower clipped to ≥ 0, fixed inactive ⇒ upper
    /// clipped to ≤ 0).
    public var preActivation: [LayerBounds]
    /// Bounds of the network output.
    public var output: LayerBounds
    /// Some fixed phase contradicts the bounds (e.g. fixed active but upper < 0): the region
    /// intersected with the assignment is empty. Bounds after the contradicting layer are then
    /// empty intervals (`lower = +∞`, `upper = −∞`).
    public var isInfeasible: Bool
    /// Bounds of every node's value, indexed like ``Network/nodes`` (the ReLU input nodes with the
    /// assignment applied). The LP relaxation uses them as variable bounds, and back-substitution
    /// uses them to bound rounding errors; empty when the bounds were built by hand.
    public var nodes: [LayerBounds]
    /// The ReLU layer (position in ``Network/reluNodes``) whose bounds contradict the assignment,
    /// when ``isInfeasible``.
    public var infeasibleLayer: Int?

    /// Creates bounds.
    public init(preActivation: [LayerBounds], output: LayerBounds, isInfeasible: Bool = false,
                nodes: [LayerBounds] = [], infeasibleLayer: Int? = nil) {
        self.preActivation = preActivation
        self.output = output
        self.isInfeasible = isInfeasible
        self.nodes = nodes
        self.infeasibleLayer = infeasibleLayer
    }

    /// `.active` if the pre-activation's lower bound is ≥ 0, `.inactive` if its upper bound is
    /// ≤ 0, `nil` when the neuron is unstable over the region.
    public func stability(of neuron: NeuronID) -> Phase? {
        let b = preActivation[neuron.layer]
        if b.lower[neuron.index] >= 0 { return .active }
        if b.upper[neuron.index] <= 0 { return .inactive }
        return nil
    }

    /// Number of neurons that are unstable under these bounds.
    public var unstableCount: Int {
        preActivation.reduce(0) { total, b in
            total + b.lower.indices.reduce(0) { $0 + (b.lower[$1] < 0 && b.upper[$1] > 0 ? 1 : 0) }
        }
    }
}
