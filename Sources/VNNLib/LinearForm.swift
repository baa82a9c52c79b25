/// An affine expression `Σ cᵢ·vᵢ + constant` under construction while a term is parsed.
///
/// Terms may repeat a variable and stay unsorted until ``Comparison`` normalises them; that
/// keeps building cheap for the nested `(+ …)`/`(- …)`/`(* …)` forms VNNLIB allows.
struct LinearForm {
    var terms: [(variable: Variable, coefficient: Double)] = []
    var constant: Double = 0

    /// Adds `scale · operand`.
    mutating func add(_ operand: Operand, scale: Double) {
        switch operand {
        case .constant(let c):
            constant += scale * c
        case .variable(let v):
            terms.append((v, scale))
        case .form(let f):
            if terms.isEmpty && scale == 1 {
                let c = constant
                self = f
                constant += c
                return
            }
            terms.reserveCapacity(terms.count + f.terms.count)
            for t in f.terms { terms.append((t.variable, scale * t.coefficient)) }
            constant += scale * f.constant
        }
    }
}

/// A parsed term: leaves stay unboxed so that `(<= X_3 0.5)`, by far the most common atom,
/// never allocates.
enum Operand {
    case constant(Double)
    case variable(Variable)
    case form(LinearForm)

    /// The operand as a constant when it has no variable terms (e.g. `(+ 1 2)`), else `nil`.
    var constantValue: Double? {
        switch self {
        case .constant(let c): c
        case .variable: nil
        case .form(let f): f.terms.isEmpty ? f.constant : nil
        }
    }

    /// `(* k t)`: scale a term by a constant.
    func scaled(by k: Double) -> Operand {
        switch self {
        case .constant(let c): return .constant(k * c)
        case .variable(let v):
            var f = LinearForm()
            f.terms = [(v, k)]
            return .form(f)
        case .form(var f):
            for i in f.terms.indices { f.terms[i].coefficient *= k }
            f.constant *= k
            return .form(f)
        }
    }
}

/// The comparison operators of VNNLIB atoms.
enum Relation {
    case lessEqual, greaterEqual, less, greater, equal

    init?(_ keyword: Keyword) {
        switch keyword {
        case .lessEqual: self = .lessEqual
        case .greaterEqual: self = .greaterEqual
        case .less: self = .less
        case .greater: self = .greater
        case .equal: self = .equal
        default: return nil
        }
    }
}

/// The variable part of `lhs - rhs` after merging: none, one (kept unboxed), or several.
enum NormalizedTerms {
    case none
    case one(Variable, Double)
    case many([(variable: Variable, coefficient: Double)])

    func negated() -> NormalizedTerms {
        switch self {
        case .none: .none
        case .one(let v, let c): .one(v, -c)
        case .many(let ts): .many(ts.map { ($0.variable, -$0.coefficient) })
        }
    }

    var isFinite: Bool {
        switch self {
        case .none: true
        case .one(_, let c): c.isFinite
        case .many(let ts): ts.allSatisfy { $0.coefficient.isFinite }
        }
    }

    var asArray: [(variable: Variable, coefficient: Double)] {
        switch self {
        case .none: []
        case .one(let v, let c): [(v, c)]
        case .many(let ts): ts
        }
    }
}

/// One literal of the property after normalisation.
///
/// Bounds on a single input by a constant are kept apart from general constraints because they
/// become the case's box rather than rows of its violation condition.
enum Atom {
    /// `X_index ≥ value`.
    case lowerBound(input: Int32, value: Double)
    /// `X_index ≤ value`.
    case upperBound(input: Int32, value: Double)
    /// Any other linear constraint.
    case constraint(LinearConstraint)
    /// A comparison between constants, e.g. `(<= 0 1)` or `(<= X_0 X_0)`.
    case constant(Bool, SourceLocation)
}

/// Turns one comparison `(op lhs rhs)` into atoms: one for `<=`, `<`, `>=`, `>`, two for `=`.
enum Comparison {
    /// Appends the atoms of `lhs op rhs` to `atoms`.
    static func appendAtoms(
        _ relation: Relation, _ lhs: Operand, _ rhs: Operand, at location: SourceLocation,
        path: String, to atoms: inout [Atom]
    ) throws(VNNLibError) {
        // lhs - rhs = terms + constant, so `lhs ≤ rhs` reads `terms ≤ -constant`.
        let (terms, constant) = difference(lhs, rhs)
        guard terms.isFinite, constant.isFinite else {
            throw VNNLibError(kind: .semantic, path: path, location: location,
                              message: "a coefficient or constant of this comparison overflows Double")
        }
        switch relation {
        case .lessEqual: append(terms, bound: -constant, strict: false, location, to: &atoms)
        case .less: append(terms, bound: -constant, strict: true, location, to: &atoms)
        case .greaterEqual: append(terms.negated(), bound: constant, strict: false, location, to: &atoms)
        case .greater: append(terms.negated(), bound: constant, strict: true, location, to: &atoms)
        case .equal:
            append(terms, bound: -constant, strict: false, location, to: &atoms)
            append(terms.negated(), bound: constant, strict: false, location, to: &atoms)
        }
    }

    /// `lhs - rhs`, with terms merged, sorted by variable and zero coefficients dropped.
    static func difference(_ lhs: Operand, _ rhs: Operand) -> (NormalizedTerms, Double) {
        switch (lhs, rhs) {
        case (.variable(let v), .constant(let c)): return (.one(v, 1), -c)
        case (.constant(let c), .variable(let v)): return (.one(v, -1), c)
        case (.constant(let a), .constant(let b)): return (.none, a - b)
        case (.variable(let a), .variable(let b)):
            if a == b { return (.none, 0) }
            return (.many(a < b ? [(a, 1), (b, -1)] : [(b, -1), (a, 1)]), 0)
        default:
            var form = LinearForm()
            form.add(lhs, scale: 1)
            form.add(rhs, scale: -1)
            return (merged(form.terms), form.constant)
        }
    }

    private static func merged(_ raw: [(variable: Variable, coefficient: Double)]) -> NormalizedTerms {
        let sorted = raw.sorted { $0.variable < $1.variable }
        var out: [(variable: Variable, coefficient: Double)] = []
        out.reserveCapacity(sorted.count)
        for t in sorted {
            if let last = out.last, last.variable == t.variable {
                out[out.count - 1].coefficient += t.coefficient
            } else {
                out.append(t)
            }
        }
        out.removeAll { $0.coefficient == 0 }
        switch out.count {
        case 0: return .none
        case 1: return .one(out[0].variable, out[0].coefficient)
        default: return .many(out)
        }
    }

    /// Appends `terms ≤ bound` (or `<`).
    ///
    /// A single input over a constant becomes a box bound. The box is closed and its bound a
    /// rounded quotient, so when either loses information (strict comparison, inexact division)
    /// the bound is rounded outward — the box stays a sound over-approximation — and the exact
    /// constraint is kept too, so a counterexample is still checked against the true condition.
    private static func append(
        _ terms: NormalizedTerms, bound: Double, strict: Bool, _ location: SourceLocation,
        to atoms: inout [Atom]
    ) {
        switch terms {
        case .none:
            atoms.append(.constant(strict ? 0 < bound : 0 <= bound, location))
        case .one(.input(let i), let c):
            let value = bound / c
            let exact = value.isFinite && (-bound).addingProduct(value, c) == 0
            if value.isFinite {
                let index = Int32(truncatingIfNeeded: i)
                if c > 0 {
                    atoms.append(.upperBound(input: index, value: exact ? value : value.nextUp))
                } else {
                    atoms.append(.lowerBound(input: index, value: exact ? value : value.nextDown))
                }
            }
            if strict || !exact {
                atoms.append(.constraint(LinearConstraint(terms: [(.input(i), c)], bound: bound, isStrict: strict)))
            }
        case .one(let v, let c):
            atoms.append(.constraint(LinearConstraint(terms: [(v, c)], bound: bound, isStrict: strict)))
        case .many(let ts):
            atoms.append(.constraint(LinearConstraint(terms: ts, bound: bound, isStrict: strict)))
        }
    }
}
