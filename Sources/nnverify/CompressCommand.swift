import ArgumentParser
import Compression
import Foundation
import LPAbstraction
import Network
import Verifier

/// `nnverify compress`: exact compression over an input domain.
struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Exactly compress a dense ReLU network over an input box and write the smaller ONNX network.",
        discussion: """
            Classifies every neuron with the stable-neuron detector, removes the proved stably \
            inactive ones, folds proved stably active ones whose weight rows depend on the others \
            into the next layer, merges entirely linear layers when smaller, then compares the \
            written network with the original on sampled points (and the detector's witnesses) and \
            on points a gradient attack chose to maximise |f_i - g_i|. With --prove, the verifier \
            proves |f - g| < tolerance over the whole domain (or refutes it, or times out).
            """
    )

    @Argument(help: "The network (ONNX).")
    var network: String

    @OptionGroup var domain: DomainOptions

    @Option(name: .shortAndLong, help: "Where to write the compressed network (ONNX).")
    var output: String

    @Option(name: .customLong("report-json"), help: "Write the per-layer report as JSON here.")
    var reportJSON: String?

    @Option(help: "Time limit in seconds for classifying neurons and, with --prove, the proof (it gets what is left).")
    var timeout: Double = 600

    @Option(help: "Detector mode: exact (default), lp, fast, or baseline (two MILPs per neuron, for comparison); weaker modes prove fewer neurons stable.")
    var mode: String = "exact"

    @Option(help: "Random points for the equivalence check.")
    var samples: Int = 10_000

    @Option(help: "Seed for sampling.")
    var seed: UInt64 = 0

    @Option(name: .customLong("attack-restarts"), help: "Gradient-attack runs per output and sign for the equivalence check (0: none).")
    var attackRestarts: Int = 3

    @Flag(help: "Prove |f - g| < tolerance over the domain with the verifier (f: original, g: the written network).")
    var prove = false

    @Option(help: "Tolerance for --prove (default 1e-6 · max(1, largest |output| of the original seen on the domain)).")
    var tolerance: Double?

    @Option(help: "Worker threads for the stability proofs and for --prove (default: active cores).")
    var threads: Int?

    @OptionGroup var progress: ProgressOption

    func validate() throws {
        guard DetectorMode(rawValue: mode) != nil else { throw ValidationError("--mode must be fast, lp, exact or baseline") }
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard samples >= 0 else { throw ValidationError("--samples must not be negative") }
        guard attackRestarts >= 0 else { throw ValidationError("--attack-restarts must not be negative") }
        if let tolerance { guard tolerance.isFinite, tolerance > 0 else { throw ValidationError("--tolerance must be positive") } }
        if let threads { guard threads > 0 else { throw ValidationError("--threads must be positive") } }
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
            let start = clock.now
            let net = try timed("load") { try Network.load(contentsOf: network) }
            let box = try domain.domain(for: net)
            var detector = StableNeuronDetector(network: net)
            if let threads { detector.configuration.threads = threads }
            let report = timed("classify") {
                let lines = progress.wanted ? DetectorProgressLines() : nil
                detector.configuration.progress = lines?.callback
                defer { lines?.stop() }
                return detector.classify(box: box, mode: DetectorMode(rawValue: mode)!, deadline: start + .seconds(timeout), seed: seed)
            }
            let result = try timed("compress") { try ExactCompressor().compress(net, stable: report.stablePhases) }
            // What is compared and proved is the file as written (float32 weights), not the Double
            // network in memory: the file is what a user runs.
            let written = try timed("write") { () throws -> Network in
                try result.network.write(to: output)
                return try Network.load(contentsOf: output)
            }
            let check = timed("check") {
                EquivalenceCheck(original: net, compressed: written, box: box, samples: samples, seed: seed,
                                 extraPoints: report.witnesses, attack: EquivalenceAttack(restarts: attackRestarts))
            }
            var proof: EquivalenceProof?
            if prove {
                let bound = tolerance ?? EquivalenceProof.defaultTolerance(outputScale: check.maxAbsoluteOutput)
                let remaining = max(start + .seconds(timeout) - clock.now, .zero)
                var options = VerificationOptions(timeout: remaining, seed: seed)
                if let threads { options.threads = threads }
                let lines = progress.wanted ? VerifyProgressLines() : nil
                options.progress = lines?.progress
                defer { lines?.stop() }
                proof = try timed("prove") {
                    try EquivalenceProof.prove(original: net, compressed: written, box: box, tolerance: bound, options: options)
                }
            }
            let undecided = report.classes.reduce(0) { $0 + $1.filter { $0 == .unknown }.count }
            print(CompressionTable(result: result, check: check, proof: proof, steps: steps, undecided: undecided).text)
            if let reportJSON {
                let json = CompressionJSON(network: network, output: output, result: result, check: check, proof: proof,
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

    init(result: CompressionResult, check: EquivalenceCheck, proof: EquivalenceProof?, steps: [(String, Double)], undecided: Int) {
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
        lines.append("equivalence with the written network: max |f − g| = \(check.sampledMaxAbsoluteDifference) on \(check.points) sampled points, "
                     + "\(check.attackedMaxAbsoluteDifference) on \(check.attackedPoints) attacked points; max relative \(check.maxRelativeDifference)")
        if let proof {
            let seconds = String(format: "%.3f", proof.seconds)
            switch proof.outcome {
            case .proved:
                lines.append("proof: proved |f − g| < \(proof.tolerance) on the whole domain (\(seconds) s)")
            case .refuted(let input, let gap):
                lines.append("proof: refuted: |f − g| = \(gap) ≥ \(proof.tolerance) at x = \(input) (\(seconds) s)")
            case .timeout:
                lines.append("proof: timeout after \(seconds) s (tolerance \(proof.tolerance)); nothing proved")
            }
        }
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
    var sampledMaxAbsoluteDifference: Double, attackedMaxAbsoluteDifference: Double, attackedPoints: Int
    var proof: ProofJSON?
    var seconds: [String: Double]
    var undecided: Int

    /// `--prove`'s outcome: `proved`, `refuted` (with the point and the difference there) or `timeout`.
    struct ProofJSON: Encodable {
        var outcome: String
        var tolerance: Double
        var seconds: Double
        var maxDifference: Double?
        var input: [Double]?
    }

    init(network: String, output: String, result: CompressionResult, check: EquivalenceCheck, proof: EquivalenceProof?,
         seconds: [String: Double], undecided: Int) {
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
        sampledMaxAbsoluteDifference = check.sampledMaxAbsoluteDifference
        attackedMaxAbsoluteDifference = check.attackedMaxAbsoluteDifference
        attackedPoints = check.attackedPoints
        if let proof {
            var json = ProofJSON(outcome: "timeout", tolerance: proof.tolerance, seconds: proof.seconds)
            switch proof.outcome {
            case .proved: json.outcome = "proved"
            case .refuted(let input, let gap):
                json.outcome = "refuted"
                json.maxDifference = gap
                json.input = input
            case .timeout: break
            }
            self.proof = json
        }
        self.seconds = seconds
        self.undecided = undecided
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
