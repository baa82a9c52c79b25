import LPAbstraction
import Network
import VNNLib

/// One question of the search: is there an input in `box` whose outputs satisfy every constraint
/// of one conjunction of the violation condition? (One case × one disjunct of a specification.)
/// A *joint* problem (``joint(_:)``) asks instead whether some point satisfies *any one* of its
/// output constraints: the disjuncts of one case that are each a single output constraint (a
/// robustness property's "some other class wins"), searched in one tree.
///
/// Constraints are split by what they mention. A constraint mixing inputs and outputs is relaxed
/// to an output constraint by bounding its input part over the box: the relaxed conjunction
/// admits more points, so refuting it still refutes the original (sound), and a candidate point is
/// only ever accepted after ``CounterexampleChecker`` checks the original condition.
struct Problem: Sendable {
    /// An output constraint `coefficients · y ≤ rhs` (`<` when strict).
    struct OutputConstraint: Sendable {
        var coefficients: [Double]
        var rhs: Double
        var isStrict: Bool
    }

    /// An input constraint `coefficients · x ≤ rhs`.
    struct InputConstraint: Sendable {
        var coefficients: [Double]
        var rhs: Double
    }

    var caseIndex: Int
    var disjunctIndex: Int
    /// Whether the output constraints are alternatives (a joint problem: a point satisfying any
    /// one violates the property, and a region is refuted only when every one is) rather than a
    /// conjunction (refuted when any one is).
    var constraintsAreAlternatives = false
    var box: Box
    var outputConstraints: [OutputConstraint]
    var inputConstraints: [InputConstraint]
    /// Whether the conjunction is refuted before any search (an input constraint that no point of
    /// the box satisfies).
    var triviallyRefuted = false
    /// Sound per-node bounds over the box ∧ the conjunction, tightened by LP before the search
    /// (see `Tighten.swift`); every bound computation of the search refines them.
    var refinedBounds: NetworkBounds?
    /// The clauses every search of this problem learned and shared (copies of the problem share
    /// the store). Each is a sound fact about the problem, whatever bounds found it, so a search
    /// that runs again (after LP tightening, or in the verifier's second pass) imports them and
    /// skips what was refuted before instead of repeating it. They hold for this box and
    /// conjunction only: a copy given another box needs a fresh store.
    var learnedClauses = SharedClauseStore()
    /// Per output constraint, the lower slopes the root's slope optimisation found for it
    /// (`slopes[layer][index]`): every search node bounds the constraint with them as well as
    /// with the adaptive slopes. Valid for sub-regions of `box` only.
    var rootSlopes: [Int: [[Double]]] = [:]
    /// For a joint problem, the problems it replaced, one per alternative: searched one by one
    /// when the joint search runs out of its share (see ``SearchOptions/jointShare``).
    var separateParts: [Problem] = []

    init(specification: Specification, caseIndex: Int, disjunctIndex: Int, network: Network) {
        let c = specification.cases[caseIndex]
        self.caseIndex = caseIndex
        self.disjunctIndex = disjunctIndex
        box = Box(lower: c.lower, upper: c.upper)
        outputConstraints = []
        inputConstraints = []
        for constraint in c.violation[disjunctIndex] {
            var cy = [Double](repeating: 0, count: network.outputSize)
            var cx = [Double](repeating: 0, count: network.inputSize)
            var mentionsOutput = false
            for term in constraint.terms {
                switch term.variable {
                case .input(let i): cx[i] += term.coefficient
                case .output(let j): cy[j] += term.coefficient; mentionsOutput = true
                }
            }
            // min over the box of cx·x, rounded down so the relaxation stays sound.
            var inputMinimum = 0.0
            for i in cx.indices where cx[i] != 0 {
                inputMinimum += cx[i] > 0 ? cx[i] * box.lower[i] : cx[i] * box.upper[i]
            }
            inputMinimum -= abs(inputMinimum) * 1e-12 + 1e-300
            if mentionsOutput {
                let hasInputPart = cx.contains { $0 != 0 }
                outputConstraints.append(OutputConstraint(
                    coefficients: cy, rhs: hasInputPart ? constraint.bound - inputMinimum : constraint.bound,
                    isStrict: constraint.isStrict && !hasInputPart))
            } else {
                if inputMinimum > constraint.bound { triviallyRefuted = true }
                inputConstraints.append(InputConstraint(coefficients: cx, rhs: constraint.bound))
            }
        }
    }

    /// The joint problem of `problems` — disjuncts of one case, each a single output constraint and
    /// nothing else, none refuted yet — or nil when they are not of that form or fewer than two.
    ///
    /// Why: each disjunct searched alone pays for the same intermediate bounds at every node of
    /// its own tree (on mnistfc, most of a node's cost), and all nine trees of a hard robustness
    /// property split the same early neurons. One tree computes them once per node for every
    /// constraint, and a constraint refuted at a node is never looked at again below it. One
    /// thread, against one search per disjunct: mnistfc 256x4 prop_0_0.03 unsat in 2.9 s
    /// instead of 8.7 s, 256x6 prop_5_0.03 in 27 s instead of a timeout at 100 s.
    static func joint(_ problems: [Problem]) -> Problem? {
        guard problems.count >= 2, let first = problems.first,
              problems.allSatisfy({
                  $0.caseIndex == first.caseIndex && $0.outputConstraints.count == 1 && $0.inputConstraints.isEmpty
                      && !$0.triviallyRefuted && !$0.constraintsAreAlternatives && $0.refinedBounds == nil
              }) else { return nil }
        var joint = first
        joint.constraintsAreAlternatives = true
        joint.outputConstraints = problems.map { $0.outputConstraints[0] }
        joint.learnedClauses = SharedClauseStore()
        joint.rootSlopes = [:]
        joint.separateParts = problems
        for (k, problem) in problems.enumerated() {
            if let slopes = problem.rootSlopes[0] { joint.rootSlopes[k] = slopes }
        }
        return joint
    }

    /// The separate problems of a joint one, each starting from every clause the joint search
    /// learned: a clause there says no alternative holds under its literals, so each one alone
    /// does not either.
    func partsWithLearnedClauses() -> [Problem] {
        let learned = learnedClauses.clauses(from: 0).clauses
        return separateParts.map { part in
            var part = part
            part.learnedClauses = SharedClauseStore()
            for clause in learned { part.learnedClauses.publish(clause) }
            return part
        }
    }

    /// Whether a sound lower bound `lower` of `constraint`'s left-hand side refutes it.
    static func refutes(lower: Double, _ constraint: OutputConstraint) -> Bool {
        constraint.isStrict ? lower >= constraint.rhs : lower > constraint.rhs
    }
}
