/// Errors raised while reading, checking or evaluating a network.
public enum NetworkError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read at all.
    case unreadableFile(path: String, reason: String)
    /// The file is not a valid ONNX model (truncated, garbled, or another format).
    case notONNX(path: String, reason: String)
    /// An operator the importer does not support.
    case unsupportedOperator(path: String, node: String, opType: String, reason: String)
    /// A supported operator used in a way that is not supported or not valid.
    case invalidNode(path: String, node: String, opType: String, reason: String)
    /// The graph as a whole is not a network we can represent.
    case invalidGraph(path: String, reason: String)
    /// An IR network whose structure is inconsistent.
    case invalidStructure(String)
    /// An input vector of the wrong length.
    case wrongInputSize(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason): return "\(path): cannot read file: \(reason)"
        case .notONNX(let path, let reason): return "\(path): not a valid ONNX model: \(reason)"
        case .unsupportedOperator(let path, let node, let op, let reason):
            return "\(path): node '\(node)': unsupported operator \(op): \(reason)"
        case .invalidNode(let path, let node, let op, let reason):
            return "\(path): node '\(node)' (\(op)): \(reason)"
        case .invalidGraph(let path, let reason): return "\(path): \(reason)"
        case .invalidStructure(let reason): return "invalid network: \(reason)"
        case .wrongInputSize(let expected, let got): return "expected \(expected) input values, got \(got)"
        }
    }
}
