import ArgumentParser
import Compression
import Foundation
import LPAbstraction
import Network

/// `nnverify compress`: exact compression over an input domain.
struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Exactly compress a dense ReLU network over an input box and write the smaller ONNX network.",
        discussion: """
            Classifies every neuron with the stable-neuron detector, removes the proved stably \
            inactive ones, folds proved stably active ones whose weight rows depend on the others \
            into the next layer, merges entirely linear layers when smaller, then compares the \
            result with the original on sampled points and the detector's witnesses.
            """
    )

    @Argument(help: "The network (ONNX).")
    var network: String

    @OptionGroup var domain: DomainOptions

    @Option(name: .shortAndLong, help: "Where to write the compressed network (ONNX).")
    var output: String

    @Option(name: .customLong("report-json"), help: "Write the per-layer report as JSON here.")
    var reportJSON: String?

    @Option(help: "Time limit for classifying neurons, in seconds.")
    var timeout: Double = 600

    @Option(help: "Detector mode: exact (default), lp or fast; weaker modes prove fewer neurons stable.")
    var mode: String = "exact"

    @Option(help: "Random points for the equivalence check.")
    var samples: Int = 10_000

    @Option(help: "Seed for sampling.")
    var seed: UInt64 = 0

    func validate() throws {
        guard DetectorMode(rawValue: mode) != nil else { throw ValidationError("--mode must be fast, lp or exact") }
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard samples >= 0 else { throw ValidationError("--samples must not be negative") }
    }

    func run() throws {
        try Diagnostics.reportingErrors {
            let clock = ContinuousClock()
            var steps: [(String, Double)] = []
            func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
                let start = clock.now
                let value = try body()
                steps.append((name, (clock.now - start).seconds))
                return value
            }
            let net = try timed("load") { try Network.load(contentsOf: network) }
            let box = try domain.domain(for: net)
            let report = timed("classify") {
                StableNeuronDetector(network: net).classify(box: box, mode: DetectorMode(rawValue: mode)!,
                                                           deadline: clock.now + .seconds(timeout), seed: seed)
            }
            let result = try timed("compress") { try ExactCompressor().compress(net, stable: report.stablePhases) }
            try timed("write") { try result.network.write(to: output) }
            let check = timed("check") {
                EquivalenceCheck(original: net, compressed: result.network, box: box, samples: samples, seed: seed,
                                 extraPoints: report.witnesses)
            }
            let undecided = report.classes.reduce(0) { $0 + $1.filter { $0 == .unknown }.count }
            print(CompressionTable(result: result, check: check, steps: steps, undecided: undecided).text)
            if let reportJSON {
                let json = CompressionJSON(network: network, output: output, result: result, check: check,
                                           seconds: Dictionary(uniqueKeysWithValues: steps), undecided: undecided)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(json).write(to: URL(fileURLWithPath: reportJSON))
            }
        }
    }
}

/// The table `compress` prints.
struct CompressionTable {
    let text: String

    init(result: CompressionResult, check: EquivalenceCheck, steps: [(String, Double)], undecided: Int) {
        var lines = ["layer  before  after  removed-inactive  folded-active  merged"]
        for (k, layer) in result.layers.enumerated() {
            lines.append(String(k).padding(toLength: 5, withPad: " ", startingAt: 0)
                         + String(layer.neuronsBefore).leftPadded(to: 8) + String(layer.neuronsAfter).leftPadded(to: 7)
                         + String(layer.removedInactive).leftPadded(to: 18) + String(layer.foldedActive).leftPadded(to: 15)
                         + (layer.merged ? "yes" : "no").leftPadded(to: 8))
        }
        lines.append("parameters: \(result.parametersBefore) → \(result.parametersAfter); connections: \(result.connectionsBefore) → \(result.connectionsAfter)")
        if result.isConstant { lines.append("the output is constant on the domain") }
        if undecided > 0 { lines.append("note: \(undecided) neuron(s) left undecided (kept); a longer --timeout may compress more") }
        lines.append("equivalence on \(check.points) points: max |f − g| = \(check.maxAbsoluteDifference), relative \(check.maxRelativeDifference)")
        lines.append("time: " + steps.map { "\($0.0) \(String(format: "%.3f", $0.1)) s" }.joined(separator: ", "))
        text = lines.joined(separator: "\n")
    }
}

/// The JSON file of `compress --report-json`.
struct CompressionJSON: Encodable {
    var network: String
    var output: String
    var layers: [LayerReport]
    var parametersBefore: Int, parametersAfter: Int
    var connectionsBefore: Int, connectionsAfter: Int
    var isConstant: Bool
    var maxAbsoluteDifference: Double, maxRelativeDifference: Double, checkedPoints: Int
    var seconds: [String: Double]
    var undecided: Int

    init(network: String, output: String, result: CompressionResult, check: EquivalenceCheck, seconds: [String: Double], undecided: Int) {
        self.network = network
        self.output = output
        layers = result.layers
        parametersBefore = result.parametersBefore
        parametersAfter = result.parametersAfter
        connectionsBefore = result.connectionsBefore
        connectionsAfter = result.connectionsAfter
        isConstant = result.isConstant
        maxAbsoluteDifference = check.maxAbsoluteDifference
        maxRelativeDifference = check.maxRelativeDifference
        checkedPoints = check.points
        self.seconds = seconds
        self.undecided = undecided
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
