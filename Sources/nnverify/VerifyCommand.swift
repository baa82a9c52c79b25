import ArgumentParser
import Foundation
import Network
import VNNLib
import Verifier

/// `nnverify verify`: decide one property on one network.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Decide whether a network satisfies a VNNLIB property.",
        discussion: """
            stdout line 1 is exactly sat, unsat, unknown or timeout; after sat, the \
            counterexample in VNN-COMP form, one atom a line, as the original network computes it. \
            The exit status is 0 for every verdict and non-zero only for errors.
            """
    )

    @Argument(help: "The network (ONNX).")
    var network: String

    @Argument(help: "The property (VNNLIB); it states the unsafe condition.")
    var property: String

    @Option(help: "Time limit in seconds (decimals allowed), loading included.")
    var timeout: Double = 60

    @Option(name: .customLong("result-file"), help: "Also write the VNN-COMP result file here.")
    var resultFile: String?

    @Option(help: "Worker threads (default: the number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Seed for every random choice; runs with the same seed give the same verdict.")
    var seed: UInt64 = 0

    @Option(name: .customLong("stats-json"), help: "Write search statistics as JSON here.")
    var statsJSON: String?

    @Flag(help: "Compress the network exactly over the property's input region before the search.")
    var compress = false

    @OptionGroup var progress: ProgressOption

    func validate() throws {
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        try Diagnostics.reportingErrors {
            let net = try Network.load(contentsOf: network)
            let spec = try VNNLibParser.parse(contentsOf: property)
            guard spec.inputCount == net.inputSize, spec.outputCount == net.outputSize else {
                throw ValidationError("\(property) declares \(spec.inputCount) inputs and \(spec.outputCount) outputs, but \(network) has \(net.inputSize) inputs and \(net.outputSize) outputs")
            }
            let remaining = Duration.seconds(timeout) - (clock.now - start)
            let lines = progress.wanted ? VerifyProgressLines() : nil
            let options = VerificationOptions(timeout: max(remaining, .zero), threads: threads, seed: seed,
                                              progress: lines?.progress)
            var compression: CompressionSummary?
            let result: VerificationResult
            if compress {
                let (verified, summary) = Verifier.verifyCompressed(network: net, specification: spec, options: options)
                result = verified
                compression = summary
                Diagnostics.note("compressed: ReLU neurons \(summary.neuronsBefore) → \(summary.neuronsAfter), parameters \(summary.parametersBefore) → \(summary.parametersAfter) in \(String(format: "%.2f", summary.seconds)) s" + (summary.skipped.map { " (skipped: \($0))" } ?? ""))
            } else {
                result = Verifier.verify(network: net, specification: spec, options: options)
            }
            lines?.stop()
            let text = ResultFile.text(verdict: result.verdict, counterexample: result.counterexample)
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
            if let resultFile {
                try Data(text.utf8).write(to: URL(fileURLWithPath: resultFile))
            }
            if let statsJSON {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(StatisticsFile(search: result.statistics, compression: compression))
                    .write(to: URL(fileURLWithPath: statsJSON))
            }
            let elapsed = clock.now - start
            Diagnostics.note("\(result.verdict.rawValue) in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 2))))")
        }
    }
}

/// The `--stats-json` file: the search's counters and, with `--compress`, what compression did.
struct StatisticsFile: Encodable {
    var search: SearchStatistics
    var compression: CompressionSummary?
}
