/// A VNNLIB property: where the inputs may lie and which outputs would violate the property.
///
/// VNNLIB states the *unsafe* condition: the property is violated (`sat`) when some input in the
/// region makes the condition true. The region and condition are normalised into ``cases``: each
/// case is one input box together with a disjunction of conjunctions (DNF) of linear constraints
/// over inputs and outputs. The property is violated iff some case has an input in its box that
/// satisfies one of its conjunctions.
public struct Specification: Sendable, Equatable {
    /// Number of declared input variables `X_0 … X_{n-1}`.
    public var inputCount: Int
    /// Number of declared output variables `Y_0 … Y_{m-1}`.
    public var outputCount: Int
    /// The disjunction of cases; see the type's documentation.
    public var cases: [Case]
    /// Remarks from normalisation that do not make the file invalid, e.g. a disjunct dropped
    /// because its input box is empty (it can never be violated). Empty for most files.
    public var warnings: [String] = []

    /// Creates a specification.
    public init(inputCount: Int, outputCount: Int, cases: [Case]) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.cases = cases
    }

    /// Number of distinct input boxes.
    public var boxCount: Int { cases.count }
    /// Total number of conjunctions over all cases.
    public var disjunctCount: Int { cases.reduce(0) { $0 + $1.violation.count } }
    /// Total number of linear constraints over all conjunctions (box bounds not counted).
    public var constraintCount: Int {
        cases.reduce(0) { $0 + $1.violation.reduce(0) { $0 + $1.count } }
    }
}

/// One input box with the violation condition that applies inside it.
public struct Case: Sendable, Equatable {
    /// Lower bounds of the inputs, one per input variable.
    public var lower: [Double]
    /// Upper bounds of the inputs, one per input variable.
    public var upper: [Double]
    /// Disjunction of conjunctions: the property is violated at `(x, y)` when `x` is in the box
    /// and every constraint of at least one conjunction holds. An empty conjunction is `true`
    /// (every input of the box violates the property). Constraints over inputs alone can appear
    /// too: two-variable ones such as `X_0 ≤ X_1`, and single-input bounds the closed box cannot
    /// state exactly (strict `<`, or a quotient like `3·X_0 ≤ 1` that rounds), which the parser
    /// keeps alongside the box so that a counterexample is checked against the exact condition.
    public var violation: [[LinearConstraint]]

    /// Creates a case.
    public init(lower: [Double], upper: [Double], violation: [[LinearConstraint]]) {
        self.lower = lower
        self.upper = upper
        self.violation = violation
    }
}

/// A variable of a VNNLIB property.
public enum Variable: Sendable, Hashable, Comparable {
    /// Input `X_i`.
    case input(Int)
    /// Output `Y_i`.
    case output(Int)
}

/// `Σ coefficient·variable  ≤ bound` (or `<` when ``isStrict``).
///
/// Every VNNLIB comparison is rewritten into this form: `(>= a b)` becomes `b - a ≤ 0`, and
/// `(= a b)` becomes two constraints.
public struct LinearConstraint: Sendable, Equatable {
    /// The linear terms; each variable appears at most once, sorted by variable.
    public var terms: [(variable: Variable, coefficient: Double)]
    /// The right-hand side.
    public var bound: Double
    /// Whether the comparison was strict (`<`, `>`).
    public var isStrict: Bool

    /// Creates a constraint.
    public init(terms: [(variable: Variable, coefficient: Double)], bound: Double, isStrict: Bool = false) {
        self.terms = terms
        self.bound = bound
        self.isStrict = isStrict
    }

    /// Whether the constraint mentions only output variables.
    public var isOverOutputsOnly: Bool { terms.allSatisfy { if case .output = $0.variable { return true } else { return false } } }

    /// Evaluates `Σ coefficient·variable - bound` at concrete values (≤ 0 means satisfied, < 0 for strict).
    public func slack(inputs x: [Double], outputs y: [Double]) -> Double {
        var s = -bound
        for t in terms {
            switch t.variable {
            case .input(let i): s += t.coefficient * x[i]
            case .output(let j): s += t.coefficient * y[j]
            }
        }
        return s
    }

    public static func == (a: LinearConstraint, b: LinearConstraint) -> Bool {
        a.bound == b.bound && a.isStrict == b.isStrict && a.terms.count == b.terms.count
            && zip(a.terms, b.terms).allSatisfy { $0.variable == $1.variable && $0.coefficient == $1.coefficient }
    }
}
