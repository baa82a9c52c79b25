import Compression
import Foundation
import LPAbstraction
import Network
import VNNLib

/// What `--compress` did before the search.
public struct CompressionSummary: Sendable, Codable {
    /// ReLU neurons before and after.
    public var neuronsBefore: Int, neuronsAfter: Int
    /// Parameters before and after.
    public var parametersBefore: Int, parametersAfter: Int
    /// Seconds spent classifying and rewriting.
    public var seconds: Double
    /// Why nothing was compressed, when nothing was (e.g. a convolutional network).
    public var skipped: String?
}

extension Verifier {
    /// Compresses the network exactly over the property's input region, then verifies the smaller
    /// network; a `sat` answer is re-checked on the original network before it is returned.
    ///
    /// The region is the hull of all the property's boxes: a neuron stable over the hull is stable
    /// over every box, so the compressed network agrees with the original wherever the property
    /// looks. At most `share` of the time goes to classification (`mode` of the detector).
    public static func verifyCompressed(network: Network, specification: Specification, options: VerificationOptions,
                                        mode: DetectorMode = .lp, share: Double = 0.25) -> (VerificationResult, CompressionSummary) {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + options.timeout
        options.progress?.update { $0 = .init() }
        var summary = CompressionSummary(neuronsBefore: network.reluCount, neuronsAfter: network.reluCount,
                                         parametersBefore: network.parameterCount, parametersAfter: network.parameterCount,
                                         seconds: 0, skipped: nil)
        // Falsify the original first, with the budget `verify` would give it: classification
        // takes a fixed share of the time, which a sat instance found in milliseconds should not
        // pay (measured on ACAS Xu prop 2: 0.00 s without --compress, 7.5 s with).
        let search = SearchOptions()
        let falsifyBudget = search.falsifyBudget(timeout: options.timeout.inSeconds)
        if falsifyBudget > 0 {
            let falsifier = Falsifier(network: network, specification: specification,
                                      options: FalsificationOptions(seed: options.seed, repeatsUntilDeadline: false))
            if let found = falsifier.run(deadline: min(deadline, clock.now + .milliseconds(Int64(falsifyBudget * 1000)))) {
                summary.skipped = "a counterexample was found before compressing"
                summary.seconds = (clock.now - start).inSeconds
                var stats = SearchStatistics()
                stats.falsifySeconds = summary.seconds
                return (VerificationResult(verdict: .sat, counterexample: found, statistics: stats), summary)
            }
        }
        var compressed = network
        if let first = specification.cases.first, specification.inputCount == network.inputSize {
            var hull = Box(lower: first.lower, upper: first.upper)
            for c in specification.cases.dropFirst() {
                for i in hull.lower.indices {
                    hull.lower[i] = min(hull.lower[i], c.lower[i])
                    hull.upper[i] = max(hull.upper[i], c.upper[i])
                }
            }
            options.progress?.update { $0.stage = .compressing }
            var detector = StableNeuronDetector(network: network)
            detector.configuration.threads = options.threads
            let report = detector.classify(box: hull, mode: mode, deadline: start + options.timeout * share, seed: options.seed)
            do {
                let result = try ExactCompressor().compress(network, stable: report.stablePhases)
                compressed = result.network
                summary.neuronsAfter = compressed.reluCount
                summary.parametersAfter = result.parametersAfter
            } catch {
                summary.skipped = "\(error)"
            }
        } else {
            summary.skipped = "the property does not match the network"
        }
        summary.seconds = (clock.now - start).inSeconds
        var remaining = options
        remaining.timeout = max(deadline - clock.now, .zero)
        // The attack already ran on the original network; the search need not repeat it.
        var withoutAttack = search
        withoutAttack.seed = options.seed
        withoutAttack.falsifyShare = 0
        var result = verify(network: compressed, specification: specification, options: remaining, search: withoutAttack)
        if result.verdict == .sat, let ce = result.counterexample {
            // The checker ran on the compressed network; the answer must hold for the original one.
            if let confirmed = CounterexampleChecker(network: network, specification: specification).check(ce.input, caseIndex: ce.caseIndex) {
                result.counterexample = confirmed
            } else {
                remaining.timeout = max(deadline - clock.now, .zero)
                result = verify(network: network, specification: specification, options: remaining)
            }
        }
        return (result, summary)
    }
}
