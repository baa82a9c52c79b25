import Compression
import LPAbstraction
import Network
import VNNLib

/// A verifier proof that two networks agree within a tolerance over a box: `|f_i(x) − g_i(x)| < T`
/// for every output `i` and every `x` in the box (`nnverify compress --prove`).
///
/// The question is put to ``Verifier/verify(network:specification:options:)`` as an ordinary
/// property: the network is the difference network `f − g` (``Network/difference(_:_:)``) and the
/// violation is the disjunction over outputs of `d_i ≥ T` or `d_i ≤ −T`. So `proved` carries the
/// verifier's soundness (outward-rounded bounds, rigorous LP values: a statement about the
/// real-valued networks), and `refuted` carries a counterexample that ``CounterexampleChecker``
/// confirmed on the difference network in Double and Float32.
public struct EquivalenceProof: Sendable {
    /// The outcome of a proof attempt.
    public enum Outcome: Sendable, Equatable {
        /// `|f − g| < tolerance` holds on the whole box.
        case proved
        /// A point of the box where some `|f_i − g_i| ≥ tolerance`: the input, and the largest
        /// absolute difference over the outputs there (Double forward passes of both networks).
        case refuted(input: [Double], maxDifference: Double)
        /// The time ran out, or the search ended without an answer.
        case timeout
    }

    /// What the attempt concluded.
    public var outcome: Outcome
    /// The tolerance that was proved or refuted.
    public var tolerance: Double
    /// Seconds the verifier ran.
    public var seconds: Double
    /// The verifier's statistics.
    public var statistics: SearchStatistics

    /// The default tolerance: `1e-6 · max(1, scale)`, where `scale` is the largest absolute output
    /// of the original network seen on the domain (e.g. ``EquivalenceCheck/maxAbsoluteOutput``).
    ///
    /// Relative to the outputs because exact compression reassociates sums (folded rows, merged
    /// layers), whose rounding grows with the magnitude of the values; floored at 1 so that
    /// outputs near 0 do not ask for a difference below what Double arithmetic on the weights
    /// can promise. 1e-6 is also the relative agreement the compression issue asks of the
    /// written ONNX file in float32.
    public static func defaultTolerance(outputScale: Double) -> Double {
        1e-6 * max(1, outputScale.isFinite ? outputScale : 1)
    }

    /// The specification "some `|d_i| ≥ tolerance`" over `box` for a network with `outputs`
    /// outputs: one case, `2 · outputs` single-constraint conjunctions.
    public static func specification(box: Box, outputs: Int, tolerance: Double) -> Specification {
        var violation: [[LinearConstraint]] = []
        for i in 0..<outputs {
            // d_i ≥ T  ⟺  −d_i ≤ −T
            violation.append([LinearConstraint(terms: [(.output(i), -1)], bound: -tolerance)])
            // d_i ≤ −T
            violation.append([LinearConstraint(terms: [(.output(i), 1)], bound: -tolerance)])
        }
        return Specification(inputCount: box.dimension, outputCount: outputs,
                             cases: [Case(lower: box.lower, upper: box.upper, violation: violation)])
    }

    /// Tries to prove `|original − compressed| < tolerance` on `box` within `options.timeout`.
    ///
    /// - Throws: ``CompressionError/mismatchedNetworks(_:)`` when the networks differ in input or
    ///   output size.
    public static func prove(original: Network, compressed: Network, box: Box, tolerance: Double,
                             options: VerificationOptions) throws -> EquivalenceProof {
        precondition(tolerance > 0 && tolerance.isFinite, "the tolerance must be positive")
        let difference = try Network.difference(original, compressed)
        let specification = specification(box: box, outputs: difference.outputSize, tolerance: tolerance)
        let clock = ContinuousClock()
        let start = clock.now
        var search = SearchOptions()
        search.seed = options.seed
        // Input splitting alone cannot finish: f and g cross the same hyperplanes, and a box that
        // straddles one leaves an unstable neuron in each branch whose relaxations do not cancel,
        // however small the box. Phase decisions settle it (with the phases fixed the LP of f − g
        // is exact), so sub-boxes go to the ReLU search while a few pairs are still unstable.
        // 12 (six pairs) proved the 4-8-8-2 test in about the time of the pure ReLU search; on
        // lowdim_5x12x12x12x5 both time out (measured).
        search.inputSplitReLUSearchMaxUnstable = 12
        let result = Verifier.verify(network: difference, specification: specification, options: options, search: search)
        let seconds = (clock.now - start).inSeconds
        let outcome: Outcome
        switch result.verdict {
        case .unsat:
            outcome = .proved
        case .sat:
            guard let ce = result.counterexample else { outcome = .timeout; break }
            let gap = zip(original.evaluate(ce.input), compressed.evaluate(ce.input)).map { abs($0 - $1) }.max() ?? 0
            outcome = .refuted(input: ce.input, maxDifference: gap)
        case .unknown, .timeout:
            outcome = .timeout
        }
        return EquivalenceProof(outcome: outcome, tolerance: tolerance, seconds: seconds, statistics: result.statistics)
    }
}
