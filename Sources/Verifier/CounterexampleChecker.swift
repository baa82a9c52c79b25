import Network
import VNNLib

/// The only gate through which a ``Counterexample`` is created: re-runs the original network on a
/// candidate input and accepts it only when the violation condition holds with a margin in both
/// `Double` and `Float`.
///
/// Why both precisions: the verdict `sat` is judged by running the ONNX file in a float32
/// runtime, while our own search reasons in `Double`. A point is trusted only when the two agree.
///
/// Why the printed point is float32-representable: the runtime will see the input rounded to
/// `Float`, so the checker rounds first (moving inward with `nextUp`/`nextDown` when rounding
/// leaves the box) and checks — and reports — that rounded point.
public struct CounterexampleChecker: Sendable {
    /// The original network.
    public let network: Network
    /// The property whose violation is checked.
    public let specification: Specification
    /// Each constraint must hold with slack `≤ -relativeMargin · scale`, where `scale` is
    /// `max(1, |bound|, Σ|coefficient·value|)`: a point that violates the property only by
    /// rounding noise is not a counterexample anyone could reproduce.
    public var relativeMargin: Double = 1e-9
    /// How far outside a box (relative to `max(1, |lower|, |upper|)`) a candidate may lie and
    /// still be projected onto it. LP optima miss their box by rounding errors of this order;
    /// anything farther is a caller's bug and is rejected rather than silently moved.
    public var boxTolerance: Double = 1e-6

    /// Creates a checker for `network` against `specification`.
    public init(network: Network, specification: Specification) {
        self.network = network
        self.specification = specification
    }

    /// Re-checks a candidate input.
    ///
    /// The candidate is projected into the box of case `caseIndex` (it may lie outside by at
    /// most ``boxTolerance``, otherwise it is rejected), rounded to the nearest float32 point in
    /// the box, and run through the original network in `Double` and in `Float`. The result is a
    /// ``Counterexample`` at that rounded point when some conjunction of the case holds in both
    /// precisions with margin (every slack `≤ -margin`, which also makes strict constraints hold
    /// strictly).
    ///
    /// - Parameters:
    ///   - input: the candidate, flattened row-major, one value per network input.
    ///   - caseIndex: the case whose box and conjunctions apply; `nil` tries every case whose box
    ///     contains the (projected) candidate, in order.
    /// - Returns: the checked counterexample, or `nil` when the candidate does not violate the
    ///   property (or has the wrong length, or contains NaN).
    public func check(_ input: [Double], caseIndex: Int?) -> Counterexample? {
        guard input.count == network.inputSize, input.count == specification.inputCount,
              !input.contains(where: { $0.isNaN }) else { return nil }
        let candidates: [Int]
        if let caseIndex {
            guard specification.cases.indices.contains(caseIndex) else { return nil }
            candidates = [caseIndex]
        } else {
            candidates = Array(specification.cases.indices)
        }
        // Boxes of different cases often overlap or coincide; reuse the forward passes when the
        // rounded point is the same.
        var evaluated: (point: [Double], double: [Double], float: [Double])?
        for index in candidates {
            let box = specification.cases[index]
            guard let point = representablePoint(input, lower: box.lower, upper: box.upper) else { continue }
            let outputs: (double: [Double], float: [Double])
            if let evaluated, evaluated.point == point {
                outputs = (evaluated.double, evaluated.float)
            } else {
                outputs = evaluate(point)
                evaluated = (point, outputs.double, outputs.float)
            }
            for (disjunct, conjunction) in box.violation.enumerated()
            where holds(conjunction, inputs: point, outputs: outputs.double)
                && holds(conjunction, inputs: point, outputs: outputs.float) {
                return Counterexample(input: point, output: outputs.double, caseIndex: index, disjunctIndex: disjunct)
            }
        }
        return nil
    }

    /// The margin a constraint's slack must reach at the given values.
    func margin(for constraint: LinearConstraint, inputs: [Double], outputs: [Double]) -> Double {
        var magnitude = max(1, abs(constraint.bound))
        var sum = 0.0
        for term in constraint.terms {
            switch term.variable {
            case .input(let i): sum += abs(term.coefficient * inputs[i])
            case .output(let j): sum += abs(term.coefficient * outputs[j])
            }
        }
        magnitude = max(magnitude, sum)
        return relativeMargin * magnitude
    }

    /// Whether every constraint of `conjunction` holds with margin (and strictly where strict).
    func holds(_ conjunction: [LinearConstraint], inputs: [Double], outputs: [Double]) -> Bool {
        conjunction.allSatisfy { constraint in
            let slack = constraint.slack(inputs: inputs, outputs: outputs)
            // `!(slack > …)` would accept NaN; these comparisons reject it.
            guard slack <= -margin(for: constraint, inputs: inputs, outputs: outputs) else { return false }
            return !constraint.isStrict || slack < 0
        }
    }

    /// The outputs of the original network at `point` in `Double` and in `Float` (converted to
    /// `Double` exactly, so slacks are computed the same way for both).
    private func evaluate(_ point: [Double]) -> (double: [Double], float: [Double]) {
        let double: [Double] = network.evaluate(point)
        let float: [Float] = network.evaluate(point.map { Float($0) })
        return (double, float.map { Double($0) })
    }

    /// Projects `input` onto the box (rejecting it when it lies farther out than
    /// ``boxTolerance``) and rounds every coordinate to a float32 value inside the box.
    ///
    /// When a coordinate's interval contains no float32 value at all (e.g. a degenerate box
    /// `[0.1, 0.1]`), the projected `Double` is kept: it is the exact point the property names,
    /// and the `Float` pass then sees the same nearest float32 value an ONNX runtime would.
    func representablePoint(_ input: [Double], lower: [Double], upper: [Double]) -> [Double]? {
        var point = input
        for i in point.indices {
            let l = lower[i], u = upper[i], x = input[i]
            let tolerance = boxTolerance * max(1, abs(l), abs(u))
            // An empty box (lower > upper) holds no point at all, however close.
            guard l <= u, x >= l - tolerance, x <= u + tolerance else { return nil }
            let projected = min(max(x, l), u)
            var f = Float(projected)
            // Rounding moves a value by at most half an ulp, so one step back inward suffices
            // whenever a float32 value exists in [l, u]; the loop bound only guards odd boxes.
            var steps = 0
            while Double(f) < l, steps < 4 { f = f.nextUp; steps += 1 }
            while Double(f) > u, steps < 8 { f = f.nextDown; steps += 1 }
            let rounded = Double(f)
            point[i] = (rounded >= l && rounded <= u) ? rounded : projected
        }
        return point
    }
}
