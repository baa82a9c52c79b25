import Network

/// The phase of a ReLU: inactive (`x ≤ 0`, output 0) or active (`x ≥ 0`, output `x`).
public enum Phase: Int8, Sendable, Hashable {
    case inactive = 0
    case active = 1

    /// The other phase.
    public var opposite: Phase { self == .active ? .inactive : .active }
}

/// One ReLU neuron: `layer` is the position of its ReLU node in ``Network/reluNodes``
/// (0-based), `index` the neuron within that node.
public struct NeuronID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Position of the ReLU node among the network's ReLU nodes.
    public var layer: Int
    /// Neuron index within that ReLU node.
    public var index: Int

    /// Creates a neuron id.
    public init(layer: Int, index: Int) {
        self.layer = layer
        self.index = index
    }

    public static func < (a: NeuronID, b: NeuronID) -> Bool {
        (a.layer, a.index) < (b.layer, b.index)
    }

    public var description: String { "n\(layer).\(index)" }
}

/// A partial assignment of phases to ReLU neurons, one optional phase per neuron.
public struct PhaseAssignment: Sendable, Equatable {
    /// `phases[layer][index]`, `nil` where the neuron is free.
    public var phases: [[Phase?]]

    /// The empty assignment for a network.
    public init(network: Network) {
        phases = network.reluNodes.map { [Phase?](repeating: nil, count: network.nodes[$0].size) }
    }

    /// The phase of a neuron, `nil` when free.
    public subscript(neuron: NeuronID) -> Phase? {
        get { phases[neuron.layer][neuron.index] }
        set { phases[neuron.layer][neuron.index] = newValue }
    }

    /// Fixes every phase `other` fixes; `false` when one contradicts a phase fixed here (the two
    /// together describe an empty region; the assignment is then partly merged, unusable).
    mutating func adopt(_ other: PhaseAssignment) -> Bool {
        for (l, layer) in other.phases.enumerated() {
            for (i, phase) in layer.enumerated() where phase != nil {
                if let mine = phases[l][i] {
                    if mine != phase { return false }
                } else {
                    phases[l][i] = phase
                }
            }
        }
        return true
    }

    /// Whether every phase `other` fixes is fixed the same way here: this assignment's region
    /// then lies inside `other`'s, so bounds sound for `other`'s are sound here too.
    public func refines(_ other: PhaseAssignment) -> Bool {
        guard phases.count == other.phases.count else { return false }
        for (mine, theirs) in zip(phases, other.phases) {
            guard mine.count == theirs.count else { return false }
            for i in theirs.indices where theirs[i] != nil && mine[i] != theirs[i] { return false }
        }
        return true
    }

    /// Number of neurons with a fixed phase.
    public var fixedCount: Int { phases.reduce(0) { $0 + $1.reduce(0) { $0 + ($1 == nil ? 0 : 1) } } }
}

/// An axis-aligned input box.
public struct Box: Sendable, Equatable {
    /// Lower bounds, one per input.
    public var lower: [Double]
    /// Upper bounds, one per input.
    public var upper: [Double]

    /// Creates a box; `lower` and `upper` must have equal length.
    public init(lower: [Double], upper: [Double]) {
        precondition(lower.count == upper.count, "box bounds must have equal length")
        self.lower = lower
        self.upper = upper
    }

    /// Number of dimensions.
    public var dimension: Int { lower.count }

    /// Whether `x` lies in the box, allowing `tolerance` outside each face.
    public func contains(_ x: [Double], tolerance: Double = 0) -> Bool {
        x.count == lower.count && x.indices.allSatisfy { x[$0] >= lower[$0] - tolerance && x[$0] <= upper[$0] + tolerance }
    }
}

/// Lower and upper bounds of a vector of values.
public struct LayerBounds: Sendable, Equatable {
    /// Lower bounds.
    public var lower: [Double]
    /// Upper bounds.
    public var upper: [Double]

    /// Creates bounds.
    public init(lower: [Double], upper: [Double]) {
        self.lower = lower
        self.upper = upper
    }
}
