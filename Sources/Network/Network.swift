/// A feed-forward ReLU network as a graph of affine nodes and ReLUs.
///
/// Nodes are stored in topological order: every node's inputs come before it, node 0 is the
/// input, and ``output`` names the node whose value is the network's output. Values flow as flat
/// row-major vectors; ``Node/shape`` records the tensor shape (without the batch dimension) so
/// convolutions know their geometry and ONNX export can restore it.
public struct Network: Sendable {
    /// The nodes in topological order; `nodes[0]` is the ``Operation/input`` node.
    public var nodes: [Node]
    /// Index of the node whose value is the network output.
    public var output: Int
    /// Name of the input tensor in the ONNX file it came from (kept for export).
    public var inputName: String
    /// Name of the output tensor in the ONNX file it came from (kept for export).
    public var outputName: String
    /// The input shape as the ONNX file declares it, batch dimension included (e.g. `[1, 1, 1, 5]`).
    public var onnxInputShape: [Int]
    /// The output shape as the ONNX file declares it, batch dimension included (e.g. `[1, 5]`).
    public var onnxOutputShape: [Int]

    /// Creates a network; `validate()` checks the structure.
    public init(nodes: [Node], output: Int, inputName: String = "input", outputName: String = "output",
                onnxInputShape: [Int]? = nil, onnxOutputShape: [Int]? = nil) {
        self.nodes = nodes
        self.output = output
        self.inputName = inputName
        self.outputName = outputName
        self.onnxInputShape = onnxInputShape ?? [1] + nodes[0].shape
        self.onnxOutputShape = onnxOutputShape ?? [1, nodes[output].size]
    }

    /// Number of input values.
    public var inputSize: Int { nodes[0].size }
    /// Number of output values.
    public var outputSize: Int { nodes[output].size }
    /// Indices of the ReLU nodes, in topological order.
    public var reluNodes: [Int] { nodes.indices.filter { nodes[$0].operation.isReLU } }
    /// Total number of ReLU neurons.
    public var reluCount: Int { reluNodes.reduce(0) { $0 + nodes[$1].size } }
    /// Number of weights and biases.
    public var parameterCount: Int { nodes.reduce(0) { $0 + $1.operation.parameterCount } }

    /// Checks that the graph is well formed: topological order, arities and shapes agree.
    public func validate() throws {
        guard let first = nodes.first, case .input = first.operation else {
            throw NetworkError.invalidStructure("node 0 must be the input")
        }
        guard output >= 0 && output < nodes.count else {
            throw NetworkError.invalidStructure("output index \(output) is out of range")
        }
        for (index, node) in nodes.enumerated() {
            for i in node.inputs where i < 0 || i >= index {
                throw NetworkError.invalidStructure("node \(index) '\(node.name)' reads node \(i), which does not precede it")
            }
            let inputSizes = node.inputs.map { nodes[$0].size }
            switch node.operation {
            case .input:
                if index != 0 { throw NetworkError.invalidStructure("node \(index) is a second input") }
            case .dense(let d):
                guard inputSizes == [d.weights.columns], node.size == d.weights.rows, d.bias.count == d.weights.rows else {
                    throw NetworkError.invalidStructure("dense node \(index) '\(node.name)' has mismatched shapes")
                }
            case .convolution(let c):
                guard node.inputs.count == 1, nodes[node.inputs[0]].shape == c.inputShape, node.shape == c.outputShape else {
                    throw NetworkError.invalidStructure("convolution node \(index) '\(node.name)' has mismatched shapes")
                }
            case .elementwiseAffine(let scale, let shift):
                guard inputSizes == [node.size], scale.count == node.size, shift.count == node.size else {
                    throw NetworkError.invalidStructure("elementwise node \(index) '\(node.name)' has mismatched shapes")
                }
            case .add:
                guard inputSizes.count == 2, inputSizes[0] == node.size, inputSizes[1] == node.size else {
                    throw NetworkError.invalidStructure("add node \(index) '\(node.name)' has mismatched shapes")
                }
            case .relu:
                guard inputSizes == [node.size] else {
                    throw NetworkError.invalidStructure("relu node \(index) '\(node.name)' has mismatched shapes")
                }
            }
        }
    }
}

/// One node of a ``Network``.
public struct Node: Sendable {
    /// What the node computes.
    public var operation: Operation
    /// Indices of the nodes it reads (one, or two for ``Operation/add``; none for the input).
    public var inputs: [Int]
    /// Output tensor shape without the batch dimension, e.g. `[C, H, W]` or `[n]`.
    public var shape: [Int]
    /// A human-readable name (usually the ONNX node that produced it).
    public var name: String

    /// Creates a node.
    public init(operation: Operation, inputs: [Int], shape: [Int], name: String = "") {
        self.operation = operation
        self.inputs = inputs
        self.shape = shape
        self.name = name
    }

    /// Number of values the node produces.
    public var size: Int { shape.reduce(1, *) }
}

/// The operations a ``Node`` may compute. All are affine except ``relu``.
public enum Operation: Sendable {
    /// The network input.
    case input
    /// `y = W x + b` over the flattened input.
    case dense(DenseLayer)
    /// A 2-D convolution (with bias) over a `[C, H, W]` input.
    case convolution(Convolution)
    /// `y[i] = scale[i] * x[i] + shift[i]`; left only where it cannot be folded into a neighbour.
    case elementwiseAffine(scale: [Double], shift: [Double])
    /// Elementwise sum of two nodes (residual connections).
    case add
    /// `y = max(x, 0)` elementwise.
    case relu

    /// Whether this is a ReLU.
    public var isReLU: Bool { if case .relu = self { return true } else { return false } }

    /// Number of weights and biases the operation holds.
    public var parameterCount: Int {
        switch self {
        case .dense(let d): return d.weights.values.count + d.bias.count
        case .convolution(let c): return c.weights.count + c.bias.count
        case .elementwiseAffine(let s, let t): return s.count + t.count
        case .input, .add, .relu: return 0
        }
    }

    /// A short name for tables: `dense`, `conv`, `affine`, `add`, `relu`, `input`.
    public var kindName: String {
        switch self {
        case .input: return "input"
        case .dense: return "dense"
        case .convolution: return "conv"
        case .elementwiseAffine: return "affine"
        case .add: return "add"
        case .relu: return "relu"
        }
    }
}

/// A fully-connected affine layer `y = W x + b`.
public struct DenseLayer: Sendable {
    /// Weights, `outputs × inputs`.
    public var weights: Matrix
    /// Bias, one per output.
    public var bias: [Double]

    /// Creates a dense layer.
    public init(weights: Matrix, bias: [Double]) {
        precondition(bias.count == weights.rows, "bias length must equal the number of rows")
        self.weights = weights
        self.bias = bias
    }
}

/// A 2-D convolution with bias, as ONNX `Conv` defines it (NCHW, weights `[M, C/group, kH, kW]`).
public struct Convolution: Sendable {
    /// Weights `[outChannels, inChannels / groups, kernelHeight, kernelWidth]`, row-major.
    public var weights: [Double]
    /// Bias, one per output channel.
    public var bias: [Double]
    /// Input shape `[C, H, W]`.
    public var inputShape: [Int]
    /// Number of output channels.
    public var outChannels: Int
    /// Kernel size `(height, width)`.
    public var kernel: (height: Int, width: Int)
    /// Strides `(height, width)`.
    public var strides: (height: Int, width: Int)
    /// Zero padding `(top, left, bottom, right)`.
    public var pads: (top: Int, left: Int, bottom: Int, right: Int)
    /// Dilations `(height, width)`.
    public var dilations: (height: Int, width: Int)
    /// Number of groups.
    public var groups: Int

    /// Creates a convolution; shapes are checked by ``Network/validate()``.
    public init(weights: [Double], bias: [Double], inputShape: [Int], outChannels: Int,
                kernel: (height: Int, width: Int), strides: (height: Int, width: Int) = (1, 1),
                pads: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0),
                dilations: (height: Int, width: Int) = (1, 1), groups: Int = 1) {
        self.weights = weights
        self.bias = bias
        self.inputShape = inputShape
        self.outChannels = outChannels
        self.kernel = kernel
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.groups = groups
    }

    /// Input channels per group.
    public var channelsPerGroup: Int { inputShape[0] / groups }

    /// Output shape `[M, outH, outW]`.
    public var outputShape: [Int] {
        let h = inputShape[1], w = inputShape[2]
        let outH = (h + pads.top + pads.bottom - dilations.height * (kernel.height - 1) - 1) / strides.height + 1
        let outW = (w + pads.left + pads.right - dilations.width * (kernel.width - 1) - 1) / strides.width + 1
        return [outChannels, outH, outW]
    }
}
