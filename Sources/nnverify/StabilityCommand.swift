import ArgumentParser
import Foundation
import LPAbstraction
import Network

/// `nnverify stability`: classify every ReLU over a domain.
struct StabilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stability",
        abstract: "Classify every ReLU as stably active, stably inactive, unstable or unknown over an input box.",
        discussion: """
            fast uses sound bounds and sampled witnesses; lp adds LP bound tightening; exact decides \
            every neuron (MILP witness harvesting, then sound certification), time permitting; \
            baseline is the earlier method (two MILPs per neuron, layer by layer), kept to compare \
            exact with. A neuron is called stable only when proved, and unstable only with two \
            witness inputs.
            """
    )

    @Argument(help: "The network (ONNX).")
    var network: String

    @OptionGroup var domain: DomainOptions

    @Option(help: "fast, lp, exact or baseline.")
    var mode: String = "fast"

    @Option(help: "Time limit in seconds.")
    var timeout: Double = 300

    @Option(help: "Write per-neuron classes, bounds and witness indices as JSON here.")
    var json: String?

    @Option(help: "Seed for sampling and attacks.")
    var seed: UInt64 = 0

    @Option(help: "Worker threads for the sound proofs of exact mode (default: active cores).")
    var threads: Int?

    @OptionGroup var progress: ProgressOption

    func validate() throws {
        guard DetectorMode(rawValue: mode) != nil else { throw ValidationError("--mode must be fast, lp, exact or baseline") }
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let threads { guard threads > 0 else { throw ValidationError("--threads must be positive") } }
    }

    func run() throws {
        try Diagnostics.reportingErrors {
            let net = try Network.load(contentsOf: network)
            let box = try domain.domain(for: net)
            let deadline = ContinuousClock.now + .seconds(timeout)
            var detector = StableNeuronDetector(network: net)
            if let threads { detector.configuration.threads = threads }
            let lines = progress.wanted ? DetectorProgressLines() : nil
            detector.configuration.progress = lines?.callback
            let report = detector.classify(box: box, mode: DetectorMode(rawValue: mode)!, deadline: deadline, seed: seed)
            lines?.stop()
            print(StabilityTable(report: report).text)
            if let json {
                try StabilityJSON(report: report, network: network, mode: mode).write(to: json)
            }
        }
    }
}

/// The per-layer table `stability` prints.
struct StabilityTable {
    let text: String

    init(report: StabilityReport) {
        var lines = ["layer  neurons  active  inactive  unstable  unknown"]
        var totals = [0, 0, 0, 0, 0]
        for (layer, classes) in report.classes.enumerated() {
            let counts = [classes.count,
                          classes.filter { $0 == .active }.count, classes.filter { $0 == .inactive }.count,
                          classes.filter { $0 == .unstable }.count, classes.filter { $0 == .unknown }.count]
            for i in counts.indices { totals[i] += counts[i] }
            lines.append(Self.row(String(layer), counts))
        }
        lines.append(Self.row("total", totals))
        let steps = report.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value)) s" }
        lines.append("time: " + steps.joined(separator: ", "))
        text = lines.joined(separator: "\n")
    }

    private static func row(_ name: String, _ counts: [Int]) -> String {
        name.padding(toLength: 5, withPad: " ", startingAt: 0) + counts.map { String($0).leftPadded(to: 9) }.joined()
    }
}

/// The JSON file of `stability --json`.
struct StabilityJSON: Encodable {
    struct Neuron: Encodable {
        var layer: Int, index: Int
        var stability: NeuronStability
        var lower: Double, upper: Double
        var positiveWitness: Int?, negativeWitness: Int?
    }
    var network: String
    var mode: String
    var neurons: [Neuron] = []
    var witnesses: [[Double]]
    var seconds: [String: Double]

    init(report: StabilityReport, network: String, mode: String) {
        self.network = network
        self.mode = mode
        witnesses = report.witnesses
        seconds = report.seconds
        for (layer, classes) in report.classes.enumerated() {
            for (index, stability) in classes.enumerated() {
                neurons.append(Neuron(layer: layer, index: index, stability: stability,
                                      lower: report.bounds.preActivation[layer].lower[index],
                                      upper: report.bounds.preActivation[layer].upper[index],
                                      positiveWitness: report.positiveWitness[layer][index],
                                      negativeWitness: report.negativeWitness[layer][index]))
            }
        }
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}
