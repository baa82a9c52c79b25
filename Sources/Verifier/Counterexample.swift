/// A concrete input that violates the property, with the outputs the network computes for it.
///
/// Only ``CounterexampleChecker`` creates these, after re-running the original network in
/// `Double` and in `Float` and finding the violation condition satisfied in both.
public struct Counterexample: Sendable, Equatable {
    /// The input values, flattened in row-major order.
    public var input: [Double]
    /// The outputs of the original network at ``input`` (Double forward pass).
    public var output: [Double]
    /// Index of the specification case (input box) the input lies in.
    public var caseIndex: Int
    /// Index of the violated conjunction within that case.
    public var disjunctIndex: Int

    /// Creates a counterexample record; use ``CounterexampleChecker`` to obtain checked ones.
    public init(input: [Double], output: [Double], caseIndex: Int, disjunctIndex: Int) {
        self.input = input
        self.output = output
        self.caseIndex = caseIndex
        self.disjunctIndex = disjunctIndex
    }
}

/// The answer of a verification run.
public enum Verdict: String, Sendable, Equatable {
    /// A counterexample exists (the property is violated).
    case sat
    /// No counterexample exists (the property holds).
    case unsat
    /// The search ended without an answer (e.g. an incomplete method gave up).
    case unknown
    /// The time limit was reached.
    case timeout
}
