import XCTest
@testable import VNNLib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Layout variants of the same property must agree, and none may be quadratic in its size.
final class ScalingTests: XCTestCase {
    private func property(inputs n: Int, style: String) -> String {
        var text = ""
        for i in 0..<n { text += "(declare-const X_\(i) Real)\n" }
        text += "(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
        let atoms = (0..<n).map { "(<= X_\($0) \(Double($0) / 8 + 0.5)) (>= X_\($0) \(Double($0) / 8 - 0.5))" }
        switch style {
        case "asserts": text += atoms.map { "(assert (and \($0)))\n" }.joined() + "(assert (<= Y_0 Y_1))\n"
        case "and": text += "(assert (and " + atoms.joined(separator: "\n") + " (<= Y_0 Y_1)))\n"
        default: text += "(assert (or (and " + atoms.joined(separator: "\n") + " (<= Y_0 Y_1))))\n"
        }
        return text
    }

    func testLayoutsAgreeAndScaleLinearly() throws {
        // 20,000 inputs: a quadratic step (copying the conjunction per atom) would take minutes.
        let n = 20_000
        let reference = try parse(property(inputs: n, style: "asserts"))
        XCTAssertEqual(reference.cases[0].upper[n - 1], Double(n - 1) / 8 + 0.5)
        XCTAssertEqual(try parse(property(inputs: n, style: "and")), reference)
        XCTAssertEqual(try parse(property(inputs: n, style: "or-and")), reference)
    }

    func testLongSumIsLinear() throws {
        let n = 20_000
        var text = "(declare-const X_0 Real)(declare-const Y_0 Real)(assert (>= X_0 0))(assert (<= X_0 1))\n(assert (<= (+"
        text += String(repeating: " Y_0", count: n) + ") X_0))"
        let s = try parse(text)
        XCTAssertEqual(s.cases[0].violation[0], [LinearConstraint(terms: [(.input(0), -1), (.output(0), Double(n))], bound: 0)])
    }

    /// The exact fast path for short decimals must agree with strtod bit for bit.
    func testNumberFastPathMatchesStrtod() throws {
        var state: UInt64 = 12345
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
        var texts: [String] = ["0", "-0", "0.0", "1", "9007199254740992", "9007199254740993", "0.1", "0.3",
                               "1e22", "1e23", "1e-22", "1e-23", "123456789012345678", "0.000000000000000000001"]
        for _ in 0..<4_000 {
            let bits = next()
            let magnitude = Double(bits >> 11) / Double(1 << 53) * pow(10, Double(Int(next() % 40) - 20))
            let format = ["%.17g", "%.15g", "%.6f", "%.3e", "%.10g"][Int(next() % 5)]
            texts.append(String(format: format, (bits & 1 == 0 ? 1 : -1) * magnitude))
            texts.append(String(next() % 100_000_000_000_000_000) + "." + String(next() % 1_000_000) + "e-" + String(next() % 30))
        }
        for text in texts {
            let s = try parse("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= X_0 1e300))(assert (>= X_0 -1e300))(assert (<= Y_0 \(text)))")
            let expected = strtod(text, nil)
            XCTAssertEqual(s.cases[0].violation[0][0].bound.bitPattern, expected.bitPattern, text)
        }
    }
}
