import XCTest
import Network
import VNNLib
@testable import Verifier

final class CounterexampleCheckerTests: XCTestCase {
    /// `y = x` on one input.
    private let identity = Network(nodes: [
        Node(operation: .input, inputs: [], shape: [1]),
        Node(operation: .dense(DenseLayer(weights: Matrix(rows: 1, columns: 1, values: [1]), bias: [0])), inputs: [0], shape: [1]),
    ], output: 1)

    /// `y ≥ threshold` as `-y ≤ -threshold`.
    private func atLeast(_ threshold: Double, strict: Bool = false) -> LinearConstraint {
        LinearConstraint(terms: [(.output(0), -1)], bound: -threshold, isStrict: strict)
    }

    private func specification(lower: Double = 0, upper: Double = 1, _ violation: [[LinearConstraint]]) -> Specification {
        Specification(inputCount: 1, outputCount: 1, cases: [Case(lower: [lower], upper: [upper], violation: violation)])
    }

    func testAcceptsAViolatingPointInsideTheBox() throws {
        let checker = CounterexampleChecker(network: identity, specification: specification([[atLeast(0.5)]]))
        let found = try XCTUnwrap(checker.check([0.75], caseIndex: 0))
        XCTAssertEqual(found.input, [0.75])
        XCTAssertEqual(found.output, [0.75])
        XCTAssertEqual(found.caseIndex, 0)
        XCTAssertEqual(found.disjunctIndex, 0)
        XCTAssertNotNil(checker.check([0.75], caseIndex: nil))
    }

    func testRejectsAPointThatDoesNotViolate() {
        let checker = CounterexampleChecker(network: identity, specification: specification([[atLeast(0.5)]]))
        XCTAssertNil(checker.check([0.25], caseIndex: 0))
        XCTAssertNil(checker.check([0.25], caseIndex: nil))
    }

    func testRejectsPointsOutsideTheBoxEvenWhenTheyWouldViolate() {
        let checker = CounterexampleChecker(network: identity, specification: specification([[atLeast(0.5)]]))
        XCTAssertNil(checker.check([1.5], caseIndex: 0))
        XCTAssertNil(checker.check([1.5], caseIndex: nil))
        XCTAssertNil(checker.check([1.001], caseIndex: 0))
        XCTAssertNil(checker.check([-0.5], caseIndex: 0))
    }

    func testProjectsPointsThatMissTheBoxByRoundingError() throws {
        let checker = CounterexampleChecker(network: identity, specification: specification([[atLeast(0.5)]]))
        let found = try XCTUnwrap(checker.check([1 + 1e-9], caseIndex: 0))
        XCTAssertEqual(found.input, [1])
    }

    func testRejectsMalformedCandidates() {
        let checker = CounterexampleChecker(network: identity, specification: specification([[atLeast(0.5)]]))
        XCTAssertNil(checker.check([], caseIndex: 0))
        XCTAssertNil(checker.check([0.75, 0.75], caseIndex: 0))
        XCTAssertNil(checker.check([.nan], caseIndex: 0))
        XCTAssertNil(checker.check([0.75], caseIndex: 1))
    }

    func testAnEmptyBoxHoldsNoCounterexample() {
        let checker = CounterexampleChecker(network: identity,
                                            specification: specification(lower: 0.6, upper: 0.5, [[atLeast(0)]]))
        XCTAssertNil(checker.check([0.55], caseIndex: 0))
        XCTAssertNil(checker.check([0.5], caseIndex: nil))
    }

    func testChoosesTheCaseWhoseBoxHoldsThePoint() throws {
        let spec = Specification(inputCount: 1, outputCount: 1, cases: [
            Case(lower: [0], upper: [1], violation: [[atLeast(0.5)]]),
            Case(lower: [2], upper: [3], violation: [[atLeast(10)], [atLeast(2.2)]]),
        ])
        let checker = CounterexampleChecker(network: identity, specification: spec)
        let found = try XCTUnwrap(checker.check([2.5], caseIndex: nil))
        XCTAssertEqual(found.caseIndex, 1)
        XCTAssertEqual(found.disjunctIndex, 1)
        XCTAssertNil(checker.check([2.5], caseIndex: 0))
    }

    /// `y = (x + 2^24) - 2^24`: exact in Double, but float32 cannot hold `2^24 + 0.5`, so the
    /// Float pass gives 0. The point violates in Double only and must be rejected.
    func testRejectsAPointThatViolatesInDoubleButNotInFloat() {
        let big = 16_777_216.0
        let network = Network(nodes: [
            Node(operation: .input, inputs: [], shape: [1]),
            Node(operation: .dense(DenseLayer(weights: Matrix(rows: 1, columns: 1, values: [1]), bias: [big])), inputs: [0], shape: [1]),
            Node(operation: .dense(DenseLayer(weights: Matrix(rows: 1, columns: 1, values: [1]), bias: [-big])), inputs: [1], shape: [1]),
        ], output: 2)
        XCTAssertEqual(network.evaluate([0.5] as [Double]), [0.5])
        XCTAssertEqual(network.evaluate([0.5] as [Float]), [0])
        let checker = CounterexampleChecker(network: network, specification: specification([[atLeast(0.25)]]))
        XCTAssertNil(checker.check([0.5], caseIndex: 0))
    }

    func testReportsTheFloat32PointInsideTheBox() throws {
        // Neither 0.1 nor 0.3 is a float32 value; Float(0.3) rounds up, out of the box.
        let checker = CounterexampleChecker(network: identity,
                                            specification: specification(lower: 0.1, upper: 0.3, [[atLeast(0.2)]]))
        let found = try XCTUnwrap(checker.check([0.3], caseIndex: 0))
        let value = found.input[0]
        XCTAssertEqual(Double(Float(value)), value, "the reported input must be float32-representable")
        XCTAssertLessThanOrEqual(value, 0.3)
        XCTAssertGreaterThanOrEqual(value, 0.1)
        XCTAssertEqual(Float(value), Float(0.3).nextDown)
        XCTAssertEqual(found.output, [value])

        let low = try XCTUnwrap(CounterexampleChecker(network: identity,
                                                      specification: specification(lower: 0.1, upper: 0.3, [[atLeast(0)]]))
            .check([0.1], caseIndex: 0))
        XCTAssertEqual(low.input[0], Double(Float(0.1)))
        XCTAssertGreaterThanOrEqual(low.input[0], 0.1)
    }

    func testKeepsTheExactValueOfADegenerateBoxWithoutFloat32Values() throws {
        let checker = CounterexampleChecker(network: identity,
                                            specification: specification(lower: 0.1, upper: 0.1, [[atLeast(0)]]))
        let found = try XCTUnwrap(checker.check([0.1], caseIndex: 0))
        XCTAssertEqual(found.input, [0.1])
    }

    func testBoundaryPointsNeedTheMargin() {
        // At x = 0.5 the slack of y ≥ 0.5 is exactly 0.
        let strict = CounterexampleChecker(network: identity, specification: specification([[atLeast(0.5, strict: true)]]))
        let loose = CounterexampleChecker(network: identity, specification: specification([[atLeast(0.5)]]))
        XCTAssertNil(strict.check([0.5], caseIndex: 0))
        XCTAssertNil(loose.check([0.5], caseIndex: 0), "a zero slack is within rounding noise")

        var exactStrict = strict
        exactStrict.relativeMargin = 0
        var exactLoose = loose
        exactLoose.relativeMargin = 0
        XCTAssertNil(exactStrict.check([0.5], caseIndex: 0), "a strict constraint needs a negative slack")
        XCTAssertNotNil(exactLoose.check([0.5], caseIndex: 0))

        // Just past the boundary in Double, but the float32 point is the boundary itself.
        XCTAssertNil(exactStrict.check([0.5 + 0x1p-40], caseIndex: 0))
        // One float32 step past it is far beyond the margin.
        XCTAssertNotNil(strict.check([Double(Float(0.5).nextUp)], caseIndex: 0))
    }

    func testEveryConstraintOfAConjunctionMustHold() throws {
        // y ≥ 0.5 and y ≤ 0.6 (that is, y - 0.6 ≤ 0).
        let upperLimit = LinearConstraint(terms: [(.output(0), 1)], bound: 0.6)
        let checker = CounterexampleChecker(network: identity, specification: specification([[atLeast(0.5), upperLimit]]))
        XCTAssertNotNil(checker.check([0.55], caseIndex: 0))
        XCTAssertNil(checker.check([0.65], caseIndex: 0))
        XCTAssertNil(checker.check([0.45], caseIndex: 0))
    }

    func testConstraintsMayMentionInputs() {
        // y - x ≤ -0.1 never holds for the identity.
        let mixed = LinearConstraint(terms: [(.input(0), -1), (.output(0), 1)], bound: -0.1)
        let checker = CounterexampleChecker(network: identity, specification: specification([[mixed]]))
        XCTAssertNil(checker.check([0.5], caseIndex: 0))
        // x ≥ 0.7 via an input-only constraint.
        let onInput = LinearConstraint(terms: [(.input(0), -1)], bound: -0.7)
        let inputChecker = CounterexampleChecker(network: identity, specification: specification([[onInput]]))
        XCTAssertNotNil(inputChecker.check([0.8], caseIndex: 0))
        XCTAssertNil(inputChecker.check([0.6], caseIndex: 0))
    }

    func testRejectsAMismatchedSpecification() {
        let spec = Specification(inputCount: 2, outputCount: 1,
                                 cases: [Case(lower: [0, 0], upper: [1, 1], violation: [[atLeast(0)]])])
        XCTAssertNil(CounterexampleChecker(network: identity, specification: spec).check([0.5, 0.5], caseIndex: 0))
    }
}
