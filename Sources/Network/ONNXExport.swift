import Foundation
import SwiftProtobuf

extension Network {
    /// The network as a serialised ONNX model (IR version 8, opset 13, float32 weights).
    ///
    /// Dense nodes become `Gemm(transB=1)`, convolutions `Conv`, residual adds `Add`, ReLUs
    /// `Relu`, and elementwise affine nodes `Mul` and `Add`; `Flatten`/`Reshape` are inserted
    /// where one node's output shape differs from what the next expects. The input and output keep
    /// ``inputName``, ``outputName``, ``onnxInputShape`` and ``onnxOutputShape``, so the file can
    /// replace the one the network was loaded from (VNNLIB properties name inputs by position).
    ///
    /// Weights are rounded to float32, as every ONNX runtime computes in float32 anyway.
    public func onnxData() throws -> Data {
        try validate()
        var writer = ONNXWriter(network: self)
        let model = try writer.model()
        do {
            return try model.serializedBytes()
        } catch {
            throw NetworkError.invalidStructure("cannot serialise the ONNX model: \(error)")
        }
    }

    /// Writes the network as an ONNX file (see ``onnxData()``).
    public func write(to path: String) throws {
        let data = try onnxData()
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw NetworkError.unreadableFile(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}

/// Builds the ONNX graph for one network.
struct ONNXWriter {
    let network: Network
    var graph = Onnx_GraphProto()
    /// The ONNX tensor holding each IR node's value, and that tensor's shape.
    var tensorName: [String] = []
    var tensorShape: [[Int]] = []
    /// Reshaped copies already emitted, keyed by tensor name and target shape.
    var reshaped: [String: String] = [:]
    var counter = 0

    init(network: Network) {
        self.network = network
    }

    mutating func fresh(_ stem: String) -> String {
        counter += 1
        return "nnverify/\(counter)/\(stem)"
    }

    mutating func model() throws -> Onnx_ModelProto {
        graph.name = "nnverify"
        graph.input = [Self.valueInfo(network.inputName, shape: network.onnxInputShape)]
        for (index, node) in network.nodes.enumerated() {
            try emit(index, node)
        }
        let outputName = network.outputName == network.inputName ? network.outputName + "_output" : network.outputName
        let final = try value(of: network.output, as: network.onnxOutputShape)
        graph.node.append(Self.node("Identity", inputs: [final], outputs: [outputName], name: fresh("output")))
        graph.output = [Self.valueInfo(outputName, shape: network.onnxOutputShape)]

        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "nnverify"
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = 13
        model.opsetImport = [opset]
        model.graph = graph
        return model
    }

    mutating func emit(_ index: Int, _ node: Node) throws {
        let batched = [1] + node.shape
        let label = node.name.isEmpty ? "\(node.operation.kindName)_\(index)" : node.name
        let output = fresh(label)
        switch node.operation {
        case .input:
            tensorName.append(network.inputName)
            tensorShape.append(network.onnxInputShape)
            return
        case .dense(let d):
            let x = try value(of: node.inputs[0], as: [1, d.weights.columns])
            let w = addInitializer(label + ".weight", shape: [d.weights.rows, d.weights.columns], values: d.weights.values)
            let b = addInitializer(label + ".bias", shape: [d.weights.rows], values: d.bias)
            var gemm = Self.node("Gemm", inputs: [x, w, b], outputs: [output], name: fresh(label))
            gemm.attribute = [Self.intAttribute("transB", 1)]
            graph.node.append(gemm)
            tensorShape.append([1, d.weights.rows])
        case .convolution(let c):
            let x = try value(of: node.inputs[0], as: [1] + c.inputShape)
            let w = addInitializer(label + ".weight",
                                   shape: [c.outChannels, c.channelsPerGroup, c.kernel.height, c.kernel.width], values: c.weights)
            let b = addInitializer(label + ".bias", shape: [c.outChannels], values: c.bias)
            var conv = Self.node("Conv", inputs: [x, w, b], outputs: [output], name: fresh(label))
            conv.attribute = [
                Self.intsAttribute("kernel_shape", [c.kernel.height, c.kernel.width]),
                Self.intsAttribute("strides", [c.strides.height, c.strides.width]),
                Self.intsAttribute("pads", [c.pads.top, c.pads.left, c.pads.bottom, c.pads.right]),
                Self.intsAttribute("dilations", [c.dilations.height, c.dilations.width]),
                Self.intAttribute("group", c.groups),
            ]
            graph.node.append(conv)
            tensorShape.append([1] + c.outputShape)
        case .elementwiseAffine(let scale, let shift):
            var x = try value(of: node.inputs[0], as: batched)
            let hasScale = scale.contains { $0 != 1 }, hasShift = shift.contains { $0 != 0 }
            if hasScale {
                let s = addInitializer(label + ".scale", shape: batched, values: scale)
                let product = hasShift ? fresh(label + "_scaled") : output
                graph.node.append(Self.node("Mul", inputs: [x, s], outputs: [product], name: fresh(label)))
                x = product
            }
            if hasShift {
                let t = addInitializer(label + ".shift", shape: batched, values: shift)
                graph.node.append(Self.node("Add", inputs: [x, t], outputs: [output], name: fresh(label)))
            }
            if !hasScale && !hasShift {
                graph.node.append(Self.node("Identity", inputs: [x], outputs: [output], name: fresh(label)))
            }
            tensorShape.append(batched)
        case .add:
            let a = try value(of: node.inputs[0], as: batched)
            let b = try value(of: node.inputs[1], as: batched)
            graph.node.append(Self.node("Add", inputs: [a, b], outputs: [output], name: fresh(label)))
            tensorShape.append(batched)
        case .relu:
            // Relu works on any shape, so it keeps its input's and spares a reshape.
            let input = node.inputs[0]
            let x = tensorName[input]
            graph.node.append(Self.node("Relu", inputs: [x], outputs: [output], name: fresh(label)))
            tensorShape.append(tensorShape[input])
        }
        tensorName.append(output)
    }

    /// The name of a tensor holding node `index`'s value with shape `shape`, adding a
    /// `Flatten` or `Reshape` when the node's tensor has another shape.
    mutating func value(of index: Int, as shape: [Int]) throws -> String {
        let name = tensorName[index], current = tensorShape[index]
        if current == shape { return name }
        guard current.reduce(1, *) == shape.reduce(1, *) else {
            throw NetworkError.invalidStructure("node \(index) has \(current.reduce(1, *)) values, but \(shape) is needed")
        }
        let key = name + "@" + shape.map(String.init).joined(separator: "x")
        if let done = reshaped[key] { return done }
        let output = fresh("reshape")
        if shape.count == 2, shape[0] == 1, current.first == 1, current.count >= 2 {
            var flatten = Self.node("Flatten", inputs: [name], outputs: [output], name: fresh("flatten"))
            flatten.attribute = [Self.intAttribute("axis", 1)]
            graph.node.append(flatten)
        } else {
            var target = Onnx_TensorProto()
            target.name = fresh("shape")
            target.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            target.dims = [Int64(shape.count)]
            target.int64Data = shape.map(Int64.init)
            graph.initializer.append(target)
            graph.node.append(Self.node("Reshape", inputs: [name, target.name], outputs: [output], name: fresh("reshape")))
        }
        reshaped[key] = output
        return output
    }

    mutating func addInitializer(_ stem: String, shape: [Int], values: [Double]) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = fresh(stem)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.dims = shape.map(Int64.init)
        var raw = Data(capacity: values.count * 4)
        for v in values {
            withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { raw.append(contentsOf: $0) }
        }
        tensor.rawData = raw
        graph.initializer.append(tensor)
        return tensor.name
    }

    static func node(_ op: String, inputs: [String], outputs: [String], name: String) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.input = inputs
        node.output = outputs
        node.name = name
        return node
    }

    static func intAttribute(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func intsAttribute(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func valueInfo(_ name: String, shape: [Int]) -> Onnx_ValueInfoProto {
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var shapeProto = Onnx_TensorShapeProto()
        shapeProto.dim = shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = Int64(d)
            return dim
        }
        tensor.shape = shapeProto
        var type = Onnx_TypeProto()
        type.tensorType = tensor
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }
}
