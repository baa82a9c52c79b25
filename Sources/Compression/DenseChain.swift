import Network

/// A network seen as `prefix → dense₀ → ReLU → dense₁ → ReLU → … → dense_K`, the shape exact
/// compression rewrites. The prefix holds the input and any elementwise-affine nodes before the
/// first dense layer (input normalisation that could not be folded), kept as they are.
struct DenseChain {
    /// Nodes before the first dense layer, starting with the input.
    var prefix: [Node]
    /// The dense layers; a ReLU follows every one but the last.
    var layers: [DenseLayer]
    /// Names of the dense nodes, kept for the output network.
    var names: [String]

    /// Recognises the chain shape, or explains why the network does not have it.
    init(_ network: Network) throws {
        var prefix: [Node] = []
        var layers: [DenseLayer] = []
        var names: [String] = []
        var expectDense = true
        var previous = -1
        for (index, node) in network.nodes.enumerated() {
            if index > 0, node.inputs != [previous] {
                throw CompressionError.unsupportedStructure("node \(index) '\(node.name)' does not read the node before it (residual or branching graph)")
            }
            previous = index
            switch node.operation {
            case .input:
                prefix.append(node)
            case .elementwiseAffine where layers.isEmpty:
                prefix.append(node)
            case .dense(let d) where expectDense:
                layers.append(d)
                names.append(node.name)
                expectDense = false
            case .relu where !expectDense:
                expectDense = true
            default:
                throw CompressionError.unsupportedStructure("node \(index) '\(node.name)' is a \(node.operation.kindName) where the dense/ReLU chain needs a \(expectDense ? "dense layer" : "ReLU")")
            }
        }
        guard network.output == network.nodes.count - 1, !expectDense, !layers.isEmpty else {
            throw CompressionError.unsupportedStructure("the network must end in a dense layer that is its output")
        }
        self.prefix = prefix
        self.layers = layers
        self.names = names
    }

    /// Rebuilds an IR network with the same input and output metadata as `template`.
    func network(like template: Network) -> Network {
        var nodes = prefix
        for (k, layer) in layers.enumerated() {
            nodes.append(Node(operation: .dense(layer), inputs: [nodes.count - 1], shape: [layer.weights.rows], name: names[k]))
            if k < layers.count - 1 {
                nodes.append(Node(operation: .relu, inputs: [nodes.count - 1], shape: [layer.weights.rows], name: names[k] + "_relu"))
            }
        }
        return Network(nodes: nodes, output: nodes.count - 1, inputName: template.inputName, outputName: template.outputName,
                       onnxInputShape: template.onnxInputShape, onnxOutputShape: template.onnxOutputShape)
    }
}

/// Why a network could not be compressed.
public enum CompressionError: Error, CustomStringConvertible {
    /// The network's graph is not one the compressor rewrites.
    case unsupportedStructure(String)
    /// The stability classification does not fit the network.
    case classificationMismatch(String)
    /// Two networks that should compute the same function differ in input or output size.
    case mismatchedNetworks(String)

    public var description: String {
        switch self {
        case .unsupportedStructure(let reason): return "cannot compress this network: \(reason)"
        case .classificationMismatch(let reason): return "stability classification does not match the network: \(reason)"
        case .mismatchedNetworks(let reason): return "the networks cannot be compared: \(reason)"
        }
    }
}
