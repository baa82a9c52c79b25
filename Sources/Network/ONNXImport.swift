import FileInput
import Foundation
import SwiftProtobuf

extension Network {
    /// Reads an ONNX model from a file, gzip-compressed or not; a `path` that does not exist is
    /// read from `path.gz` when that does (VNN-COMP repositories ship `.onnx.gz`).
    ///
    /// Supported: the affine operators verification networks are built from (`Gemm`, `MatMul`,
    /// `Conv`, `Add`, `Sub`, `Mul`, `Div`, `BatchNormalization`), `Relu`, and the operators that
    /// only re-index or pass values through (`Flatten`, `Reshape`, `Transpose`, `Squeeze`,
    /// `Unsqueeze`, `Concat`, `Identity`, `Dropout`, `Constant`). Input normalisation and batch
    /// normalisation are folded into neighbouring affine nodes where that is exact.
    ///
    /// - Throws: ``NetworkError`` naming the file (and node) when the file cannot be read, is not
    ///   ONNX, or uses an operator or construct the IR cannot represent exactly.
    public static func load(contentsOf path: String) throws -> Network {
        guard FileManager.default.fileExists(atPath: InputFile.resolve(path)) else {
            throw NetworkError.unreadableFile(path: path, reason: "no such file")
        }
        let data: Data
        do {
            data = try InputFile.contents(of: path)
        } catch {
            throw NetworkError.unreadableFile(path: path, reason: error.reason)
        }
        return try Network(onnxData: data, path: path)
    }

    /// Decodes an ONNX model held in memory.
    ///
    /// - Parameters:
    ///   - onnxData: the serialised `ModelProto`.
    ///   - path: where the data came from; used only in error messages.
    public init(onnxData: Data, path: String) throws {
        guard !onnxData.isEmpty else { throw NetworkError.notONNX(path: path, reason: "the file is empty") }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: onnxData)
        } catch {
            throw NetworkError.notONNX(path: path, reason: "the data is not a protobuf-encoded ONNX model (\(error)); is the file truncated or of another format?")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw NetworkError.notONNX(path: path, reason: "the data decodes to no ONNX graph with nodes (is this an ONNX file?)")
        }
        guard !model.graph.output.isEmpty else {
            throw NetworkError.notONNX(path: path, reason: "the graph declares no output")
        }
        var importer = ONNXImporter(model: model, path: path)
        self = try importer.run()
    }
}

/// A value flowing through the ONNX graph during import.
enum ONNXValue {
    /// Known at import time.
    case constant(ONNXConstant)
    /// Depends on the network input.
    case computed(ONNXView)
}

/// A computed tensor, expressed as a cheap re-indexing and elementwise affine map of one IR node:
/// `tensor[i] = scale[i] * node[source[i]] + shift[i]` (`source[i] == -1` means the element is the
/// constant `shift[i]`). Keeping this lazy is what lets normalisation, bias adds, batch norm,
/// reshapes and transposes fold into the neighbouring dense or conv layer instead of becoming
/// nodes of their own.
struct ONNXView {
    /// The IR node the tensor is read from.
    var node: Int
    /// The ONNX shape of the tensor (batch dimension included when the file has one).
    var shape: [Int]
    /// Flat source index per element; nil means the identity (same layout as the node).
    var source: [Int]?
    /// Per-element factor; nil means all ones.
    var scale: [Double]?
    /// Per-element offset; nil means all zeros.
    var shift: [Double]?

    var count: Int { shape.reduce(1, *) }
    var isIdentity: Bool { source == nil && scale == nil && shift == nil }

    /// Drops scale and shift arrays that do nothing, so later folds take their fast paths.
    mutating func simplify() {
        if let s = scale, s.allSatisfy({ $0 == 1 }) { scale = nil }
        if let t = shift, t.allSatisfy({ $0 == 0 }) { shift = nil }
    }

    /// The same map with its elements re-indexed: element `j` of the result is element
    /// `indices[j]` of `self` (or the constant 0 when `indices[j] == -1`).
    func gathered(_ indices: [Int], shape newShape: [Int]) -> ONNXView {
        let src = indices.map { $0 < 0 ? -1 : (source?[$0] ?? $0) }
        let sc = scale.map { s in indices.map { $0 < 0 ? 1 : s[$0] } }
        let sh = shift.map { t in indices.map { $0 < 0 ? 0 : t[$0] } }
        var view = ONNXView(node: node, shape: newShape, source: src, scale: sc, shift: sh)
        view.simplify()
        return view
    }
}

/// Walks an ONNX graph in topological order and builds the IR.
struct ONNXImporter {
    let model: Onnx_ModelProto
    let path: String
    var graph: Onnx_GraphProto { model.graph }

    /// The IR under construction; node 0 is the input.
    var nodes: [Node] = []
    /// Every tensor defined so far.
    var values: [String: ONNXValue] = [:]
    /// How many not-yet-processed ONNX nodes still read each tensor (plus one for the graph
    /// output); decides whether a pending affine map may be folded back into its producer.
    var readsLeft: [String: Int] = [:]
    /// The tensor names that are views of each IR node.
    var viewNames: [[String]] = []
    /// How many IR nodes read each IR node.
    var irReaders: [Int] = []
    /// Nodes whose ``Node/shape`` a convolution relies on, so it must not be relabelled.
    var shapeLocked: [Bool] = []
    /// The name of the ONNX node being imported, for error messages.
    var current = Onnx_NodeProto()

    init(model: Onnx_ModelProto, path: String) {
        self.model = model
        self.path = path
    }

    // MARK: - Errors

    var currentName: String {
        if !current.name.isEmpty { return current.name }
        return "(unnamed, output '\(current.output.first ?? "?")')"
    }

    func invalid(_ reason: String) -> NetworkError {
        .invalidNode(path: path, node: currentName, opType: current.opType, reason: reason)
    }

    func unsupported(_ reason: String) -> NetworkError {
        .unsupportedOperator(path: path, node: currentName, opType: current.opType, reason: reason)
    }

    func graphError(_ reason: String) -> NetworkError {
        .invalidGraph(path: path, reason: reason)
    }

    // MARK: - Driver

    mutating func run() throws -> Network {
        guard graph.output.count == 1, let output = graph.output.first else {
            throw graphError("the graph has \(graph.output.count) outputs; only single-output networks are supported")
        }

        var initializerNames = Set<String>()
        for tensor in graph.initializer {
            guard !initializerNames.contains(tensor.name) else {
                throw graphError("initializer '\(tensor.name)' is defined twice")
            }
            initializerNames.insert(tensor.name)
            values[tensor.name] = .constant(try ONNXConstant.decode(tensor, path: path, what: "initializer '\(tensor.name)'"))
        }

        // Old exporters list initializers among the graph inputs (ACAS Xu files declare 16); the
        // network input is the one input that has no initializer.
        let realInputs = graph.input.filter { !initializerNames.contains($0.name) }
        guard realInputs.count == 1, let input = realInputs.first else {
            let names = realInputs.map { "'\($0.name)'" }.joined(separator: ", ")
            throw graphError("the graph has \(realInputs.count) non-constant inputs (\(names)); exactly one is supported")
        }
        let inputShape = try declaredShape(input, role: "input")
        guard let inputCount = ONNXShape.elementCount(inputShape), inputCount > 0 else {
            throw graphError("input '\(input.name)' has shape \(inputShape), which is empty or too large")
        }
        appendNode(Node(operation: .input, inputs: [], shape: ONNXShape.withoutBatch(inputShape), name: input.name))
        define(input.name, .computed(ONNXView(node: 0, shape: inputShape)))

        let order = try topologicalOrder(available: initializerNames.union([input.name]), output: output.name)
        for index in order {
            for name in graph.node[index].input where !name.isEmpty { readsLeft[name, default: 0] += 1 }
        }
        readsLeft[output.name, default: 0] += 1

        for index in order {
            current = graph.node[index]
            try importCurrentNode()
            for name in current.input where !name.isEmpty { readsLeft[name, default: 0] -= 1 }
        }
        current = Onnx_NodeProto()

        guard let result = values[output.name] else {
            throw graphError("the graph output '\(output.name)' is never computed")
        }
        guard case .computed(let view) = result else {
            throw graphError("the graph output '\(output.name)' does not depend on the input")
        }
        let outputNode = try materialize(view, name: output.name)
        var outputShape = view.shape
        if output.type.tensorType.hasShape {
            let declared = try declaredShape(output, role: "output")
            guard ONNXShape.elementCount(declared) == view.count else {
                throw graphError("output '\(output.name)' is declared with shape \(declared), but the graph computes shape \(view.shape)")
            }
            outputShape = declared
        }
        let network = Network(nodes: nodes, output: outputNode, inputName: input.name, outputName: output.name,
                              onnxInputShape: inputShape, onnxOutputShape: outputShape)
        do {
            try network.validate()
        } catch let error as NetworkError {
            throw graphError("the imported network is inconsistent (an importer bug): \(error)")
        }
        return network
    }

    /// The declared shape of a graph input or output; symbolic dimensions (batch) become 1.
    func declaredShape(_ info: Onnx_ValueInfoProto, role: String) throws -> [Int] {
        guard case .tensorType(let tensor)? = info.type.value else {
            throw graphError("\(role) '\(info.name)' is not a tensor")
        }
        let float = Onnx_TensorProto.DataType.float.rawValue, double = Onnx_TensorProto.DataType.double.rawValue
        guard tensor.elemType == float || tensor.elemType == double else {
            throw graphError("\(role) '\(info.name)' has element type \(tensor.elemType); float or double is required")
        }
        guard tensor.hasShape else { throw graphError("\(role) '\(info.name)' declares no shape") }
        return try tensor.shape.dim.map { dim in
            switch dim.value {
            case .dimValue(let v)?:
                guard v > 0, v <= Int64(ONNXLimits.maxTensorElements) else {
                    throw graphError("\(role) '\(info.name)' has dimension \(v), which is not positive or too large")
                }
                return Int(v)
            case .dimParam?, nil:
                return 1
            }
        }
    }

    /// Indices of the nodes the output depends on, producers before consumers. Nodes that do
    /// not feed the output are skipped; unknown tensor names and cycles are errors.
    func topologicalOrder(available: Set<String>, output: String) throws -> [Int] {
        var producer: [String: Int] = [:]
        for (index, node) in graph.node.enumerated() {
            for name in node.output where !name.isEmpty {
                if available.contains(name) || producer[name] != nil {
                    throw graphError("tensor '\(name)' is defined twice (second time by node '\(node.name)')")
                }
                producer[name] = index
            }
        }
        // Which nodes the output needs.
        var needed = [Bool](repeating: false, count: graph.node.count)
        var stack: [String] = [output]
        while let name = stack.popLast() {
            guard let p = producer[name] else {
                if available.contains(name) { continue }
                throw graphError("tensor '\(name)' is used but never defined")
            }
            if needed[p] { continue }
            needed[p] = true
            stack.append(contentsOf: graph.node[p].input.filter { !$0.isEmpty })
        }
        // Kahn's algorithm over the needed nodes.
        var pending = [Int](repeating: 0, count: graph.node.count)
        var readers = [[Int]](repeating: [], count: graph.node.count)
        for (index, node) in graph.node.enumerated() where needed[index] {
            for name in node.input where !name.isEmpty {
                if let p = producer[name] {
                    pending[index] += 1
                    readers[p].append(index)
                } else if !available.contains(name) {
                    throw NetworkError.invalidNode(path: path, node: node.name, opType: node.opType,
                                                   reason: "input '\(name)' is never defined")
                }
            }
        }
        var order: [Int] = []
        var ready = graph.node.indices.filter { needed[$0] && pending[$0] == 0 }
        var head = 0
        while head < ready.count {
            let index = ready[head]
            head += 1
            order.append(index)
            for r in readers[index] {
                pending[r] -= 1
                if pending[r] == 0 { ready.append(r) }
            }
        }
        let neededCount = needed.filter { $0 }.count
        if order.count < neededCount {
            let stuck = graph.node.indices.first { needed[$0] && pending[$0] > 0 } ?? 0
            throw graphError("the graph has a cycle (node '\(graph.node[stuck].name)' depends on its own output)")
        }
        return order
    }

    // MARK: - Bookkeeping

    @discardableResult
    mutating func appendNode(_ node: Node) -> Int {
        for i in node.inputs { irReaders[i] += 1 }
        nodes.append(node)
        viewNames.append([])
        irReaders.append(0)
        shapeLocked.append(false)
        if case .convolution = node.operation { shapeLocked[nodes.count - 1] = true }
        if case .input = node.operation { shapeLocked[nodes.count - 1] = true }
        return nodes.count - 1
    }

    mutating func define(_ name: String, _ value: ONNXValue) {
        values[name] = value
        if case .computed(let view) = value, !viewNames[view.node].contains(name) { viewNames[view.node].append(name) }
    }

    /// The value of input `index` of the current node, or nil when the optional input is absent.
    func optionalInput(_ index: Int) throws -> ONNXValue? {
        guard index < current.input.count, !current.input[index].isEmpty else { return nil }
        guard let value = values[current.input[index]] else {
            throw invalid("input '\(current.input[index])' is not defined")
        }
        return value
    }

    func input(_ index: Int) throws -> ONNXValue {
        guard let value = try optionalInput(index) else {
            throw invalid("expects at least \(index + 1) inputs, got \(current.input.count)")
        }
        return value
    }

    func constantInput(_ index: Int, _ role: String) throws -> ONNXConstant {
        guard case .constant(let c) = try input(index) else {
            throw unsupported("the \(role) (input \(index), '\(current.input[index])') must be a constant; a computed \(role) is not affine")
        }
        return c
    }

    /// Stores the current node's (first) output.
    mutating func setOutput(_ value: ONNXValue) throws {
        guard let name = current.output.first, !name.isEmpty else { throw invalid("has no output") }
        if case .computed(let view) = value, view.count == 0 {
            throw invalid("produces an empty tensor of shape \(view.shape)")
        }
        define(name, value)
    }
}
