import XCTest
import LPAbstraction
import Network
import VNNLib
@testable import Verifier

/// `verify --compress` on the small network of ``EquivalenceProofTests``: the same verdicts as
/// `verify`, a compressed search when the property holds, and no compression cost when the
/// falsifier finds a counterexample first.
final class CompressThenVerifyTests: XCTestCase {
    func specification(box: Box, outputAtLeast bound: Double) -> Specification {
        Specification(inputCount: box.dimension, outputCount: 2,
                      cases: [Case(lower: box.lower, upper: box.upper,
                                   violation: [[LinearConstraint(terms: [(.output(0), -1)], bound: -bound)]])])
    }

    func testSameVerdictsAsVerifyAndTheNetworkShrinks() {
        let (net, box) = EquivalenceProofTests.smallNetwork()
        let options = VerificationOptions(timeout: .seconds(30), threads: 1)
        let unsat = specification(box: box, outputAtLeast: 1e6)
        let (proved, summary) = Verifier.verifyCompressed(network: net, specification: unsat, options: options)
        XCTAssertEqual(proved.verdict, .unsat)
        XCTAssertEqual(Verifier.verify(network: net, specification: unsat, options: options).verdict, .unsat)
        XCTAssertLessThan(summary.neuronsAfter, summary.neuronsBefore)
        XCTAssertNil(summary.skipped)

        let centre = zip(box.lower, box.upper).map { ($0 + $1) / 2 }
        let sat = specification(box: box, outputAtLeast: net.evaluate(centre)[0] - 1)
        let (found, skipped) = Verifier.verifyCompressed(network: net, specification: sat, options: options)
        XCTAssertEqual(found.verdict, .sat)
        XCTAssertEqual(Verifier.verify(network: net, specification: sat, options: options).verdict, .sat)
        let ce = try! XCTUnwrap(found.counterexample)
        XCTAssertNotNil(CounterexampleChecker(network: net, specification: sat).check(ce.input, caseIndex: ce.caseIndex))
        XCTAssertEqual(skipped.neuronsAfter, skipped.neuronsBefore, "found before compressing: nothing was compressed")
        XCTAssertNotNil(skipped.skipped)
    }
}
