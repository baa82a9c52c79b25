import Network

extension Network {
    /// The network `x ↦ f(x) − g(x)`: `f` and `g` side by side on one shared input, their outputs
    /// subtracted with an elementwise affine node (`−1 · g`) and an add node.
    ///
    /// Built only from the IR's own nodes, so every tool that reads a ``Network`` (the attack of
    /// ``EquivalenceCheck``, the verifier that proves `|f − g| ≤ T`) works on it unchanged. Each
    /// branch keeps its nodes and their order, so it computes exactly what the network alone
    /// computes; nodes after a network's output cannot influence it and are left out.
    ///
    /// - Throws: ``CompressionError/mismatchedNetworks(_:)`` when the inputs or outputs differ in size.
    public static func difference(_ f: Network, _ g: Network) throws -> Network {
        guard f.inputSize == g.inputSize else {
            throw CompressionError.mismatchedNetworks("they differ in input size (\(f.inputSize) and \(g.inputSize))")
        }
        guard f.outputSize == g.outputSize else {
            throw CompressionError.mismatchedNetworks("they differ in output size (\(f.outputSize) and \(g.outputSize))")
        }
        let m = f.outputSize
        var nodes = [f.nodes[0]]
        nodes[0].name = "input"
        // Node k ≥ 1 of a branch lands at `shift + k`; both branches read the shared input node 0.
        func append(_ network: Network, prefix: String) -> Int {
            let shift = nodes.count - 1
            guard network.output > 0 else { return 0 }
            for k in 1...network.output {
                var node = network.nodes[k]
                node.inputs = node.inputs.map { $0 == 0 ? 0 : $0 + shift }
                node.name = prefix + node.name
                nodes.append(node)
            }
            return network.output + shift
        }
        let fOutput = append(f, prefix: "f/")
        let gOutput = append(g, prefix: "g/")
        nodes.append(Node(operation: .elementwiseAffine(scale: [Double](repeating: -1, count: m),
                                                        shift: [Double](repeating: 0, count: m)),
                          inputs: [gOutput], shape: [m], name: "minus_g"))
        nodes.append(Node(operation: .add, inputs: [fOutput, nodes.count - 1], shape: [m], name: "f_minus_g"))
        let difference = Network(nodes: nodes, output: nodes.count - 1, inputName: f.inputName,
                                 outputName: "difference", onnxInputShape: f.onnxInputShape, onnxOutputShape: [1, m])
        try difference.validate()
        return difference
    }
}
