import Foundation
import XCTest
@testable import Verifier

final class ResultFileTests: XCTestCase {
    func testVerdictsWithoutAssignment() {
        XCTAssertEqual(ResultFile.text(verdict: .unsat, counterexample: nil), "unsat\n")
        XCTAssertEqual(ResultFile.text(verdict: .unknown, counterexample: nil), "unknown\n")
        XCTAssertEqual(ResultFile.text(verdict: .timeout, counterexample: nil), "timeout\n")
    }

    func testCounterexampleIsOnlyPrintedForSat() {
        let counterexample = Counterexample(input: [1], output: [2], caseIndex: 0, disjunctIndex: 0)
        XCTAssertEqual(ResultFile.text(verdict: .unsat, counterexample: counterexample), "unsat\n")
    }

    func testSatFormatIsExact() {
        let counterexample = Counterexample(input: [0.5, -1, Double(Float(0.1))], output: [3.25, -0.0001],
                                            caseIndex: 0, disjunctIndex: 0)
        let expected = """
            sat
            (
            (X_0 0.5)
            (X_1 -1.0)
            (X_2 0.10000000149011612)
            (Y_0 3.25)
            (Y_1 -0.0001)
            )

            """
        XCTAssertEqual(ResultFile.text(verdict: .sat, counterexample: counterexample), expected)
    }

    func testNumbersRoundTrip() throws {
        var generator = SplitMix64(seed: 5)
        var values: [Double] = [0, -0.0, 1e-300, -Double.leastNonzeroMagnitude, 1.7976931348623157e308, 123456789.125, 1.0 / 3.0]
        for _ in 0..<500 {
            let mantissa = 2 * generator.nextUnit() - 1
            let exponent = Int(generator.next() % 80) - 40
            values.append(mantissa * pow(10, Double(exponent)))
            values.append(Double(Float(mantissa)))
        }
        let counterexample = Counterexample(input: values, output: values.reversed(), caseIndex: 0, disjunctIndex: 0)
        let lines = ResultFile.text(verdict: .sat, counterexample: counterexample).split(separator: "\n")
        XCTAssertEqual(lines.count, 3 + 2 * values.count)
        let parsed = try lines.dropFirst(2).dropLast().map { line -> (String, Double) in
            XCTAssertTrue(line.hasPrefix("(") && line.hasSuffix(")"), String(line))
            let parts = line.dropFirst().dropLast().split(separator: " ")
            XCTAssertEqual(parts.count, 2)
            return (String(parts[0]), try XCTUnwrap(Double(String(parts[1])), String(line)))
        }
        for (i, value) in values.enumerated() {
            XCTAssertEqual(parsed[i].0, "X_\(i)")
            XCTAssertEqual(parsed[i].1.bitPattern, value.bitPattern)
            XCTAssertEqual(parsed[values.count + i].0, "Y_\(i)")
            XCTAssertEqual(parsed[values.count + i].1.bitPattern, values[values.count - 1 - i].bitPattern)
        }
    }
}
