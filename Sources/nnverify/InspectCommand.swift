import ArgumentParser
import Network
import VNNLib

/// `nnverify inspect`: what a network (and optionally a property) contains.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a network's inputs, outputs and layers, and a property's summary."
    )

    @Argument(help: "The network (ONNX).")
    var network: String

    @Argument(help: "A property (VNNLIB), optional.")
    var property: String?

    func run() throws {
        try Diagnostics.reportingErrors {
            // Load both before printing anything, so a bad property leaves stdout empty.
            let net = try Network.load(contentsOf: network)
            let spec = try property.map { try VNNLibParser.parse(contentsOf: $0) }
            print(NetworkSummary(net, path: network).text)
            if let spec, let property {
                if spec.inputCount != net.inputSize || spec.outputCount != net.outputSize {
                    Diagnostics.note("warning: \(property) declares \(spec.inputCount) inputs and \(spec.outputCount) outputs; \(network) has \(net.inputSize) and \(net.outputSize)")
                }
                print(PropertySummary(spec, path: property).text)
            }
        }
    }
}

/// A human-readable table of a network's structure.
struct NetworkSummary {
    let text: String

    init(_ net: Network, path: String) {
        var lines = [
            "network: \(path)",
            "  input:  \(net.inputName) \(net.onnxInputShape) (\(net.inputSize) values)",
            "  output: \(net.outputName) \(net.onnxOutputShape) (\(net.outputSize) values)",
            "  nodes:  \(net.nodes.count - 1), ReLU layers: \(net.reluNodes.count), ReLU neurons: \(net.reluCount), parameters: \(net.parameterCount)",
            "  layers:",
        ]
        for (index, node) in net.nodes.enumerated() where index > 0 {
            let from = node.inputs.map(String.init).joined(separator: ",")
            let kind = node.operation.kindName.padding(toLength: 6, withPad: " ", startingAt: 0)
            lines.append("    \(String(index).leftPadded(to: 3))  \(kind) ← \(from.padding(toLength: 6, withPad: " ", startingAt: 0)) shape \(node.shape)  params \(node.operation.parameterCount)  \(node.name)")
        }
        text = lines.joined(separator: "\n")
    }
}

/// A human-readable summary of a property.
struct PropertySummary {
    let text: String

    init(_ spec: Specification, path: String) {
        var lines = [
            "property: \(path)",
            "  inputs: \(spec.inputCount), outputs: \(spec.outputCount)",
            "  input boxes: \(spec.boxCount), disjuncts: \(spec.disjunctCount), constraints: \(spec.constraintCount)",
        ]
        for (index, c) in spec.cases.prefix(10).enumerated() {
            let widths = zip(c.lower, c.upper).map { $1 - $0 }
            let maxWidth = widths.max() ?? 0
            lines.append("  box \(index): width max \(maxWidth), \(c.violation.count) disjunct(s) of sizes \(c.violation.map(\.count))")
        }
        if spec.cases.count > 10 { lines.append("  … \(spec.cases.count - 10) more boxes") }
        text = lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
