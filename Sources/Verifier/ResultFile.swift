/// The VNN-COMP result file: the verdict and, for `sat`, the counterexample assignment.
public enum ResultFile {
    /// The result text for a verdict.
    ///
    /// The first line is the verdict (`sat`, `unsat`, `unknown`, `timeout`). After `sat` comes the
    /// assignment: a line `(`, one line `(X_i value)` per input, one line `(Y_j value)` per output,
    /// and a line `)`. Values are printed with Swift's shortest round-trip representation, so
    /// parsing the text gives back exactly the same `Double` (and the inputs, being float32
    /// values, the same `Float` an ONNX runtime will use).
    ///
    /// - Parameters:
    ///   - verdict: the answer of the run.
    ///   - counterexample: the checked counterexample; printed only with ``Verdict/sat`` and
    ///     required there (a `sat` without one would break the soundness invariant).
    public static func text(verdict: Verdict, counterexample: Counterexample?) -> String {
        var text = verdict.rawValue + "\n"
        guard verdict == .sat else { return text }
        guard let counterexample else {
            assertionFailure("a sat verdict must carry a counterexample")
            return text
        }
        text += "(\n"
        for (i, value) in counterexample.input.enumerated() {
            text += "(X_\(i) \(number(value)))\n"
        }
        for (j, value) in counterexample.output.enumerated() {
            text += "(Y_\(j) \(number(value)))\n"
        }
        text += ")\n"
        return text
    }

    /// `description` of a `Double` is the shortest decimal that parses back to the same value
    /// (e.g. `0.1`, `1e-05`, `-3.0`), which both Python's `float()` and Swift's `Double(_:)` read.
    private static func number(_ value: Double) -> String {
        value.description
    }
}
