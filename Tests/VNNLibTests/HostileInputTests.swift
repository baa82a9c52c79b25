import XCTest
@testable import VNNLib

/// Malformed, truncated and adversarial files: each must give a `VNNLibError` at the right
/// line and column, never a crash, a trap or a hang.
final class HostileInputTests: XCTestCase {
    private let decl = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n"

    func testTruncatedFiles() {
        assertError(decl + "(assert (<= X_0 1)", line: 3, column: 19, "expected ')' but found end of file", kind: .syntax)
        assertError(decl + "(assert (<= X_0", line: 3, column: 16, "expected ')' but found end of file (the '(<=' at 3:9 is never closed)")
        assertError(decl + "(assert (or\n  (and (<= X_0 1)\n", line: 5, column: 1, "the '(and' at 4:3 is never closed")
        assertError(decl + "(assert", line: 3, column: 8, "expected '(' starting a formula but found end of file")
        assertError("(declare-const X_0", line: 1, column: 19, "expected a sort (Real) but found end of file")
        assertError("(declare-const X_0 Real", line: 1, column: 24, "expected ')' but found end of file")
        assertError("(", line: 1, column: 2, "expected a command (declare-const or assert) but found end of file")
        assertError("(set-info :a (b c)", line: 1, column: 19, "the '(' at 1:1 is never closed")
        assertError("(set-info :a \"unterminated", line: 1, column: 14, "unterminated string literal")
        assertError(decl + "(assert (<= |X_0 1))", line: 3, column: 13, "unterminated quoted symbol")
    }

    func testUnbalancedParentheses() {
        assertError(decl + "(assert (<= X_0 1)))", line: 3, column: 20, "expected '(' starting a command but found ')'")
        assertError(decl + "(assert ((<= X_0 1)))", line: 3, column: 10, "expected a formula operator (and, or, <=, >=, <, >, =) but found '('")
        assertError(")", line: 1, column: 1, "expected '(' starting a command but found ')'")
    }

    func testGarbledText() {
        assertError(decl + "(assert (<= X_0 1.0.0))", line: 3, column: 17, "malformed number '1.0.0'")
        assertError(decl + "(assert (<= X_0 1e))", line: 3, column: 17, "malformed number '1e'")
        assertError(decl + "(assert (<= X_0 --1))", line: 3, column: 17, "unknown symbol '--1'")
        assertError(decl + "(assert (<= X_0 abc))", line: 3, column: 17, "unknown symbol 'abc'")
        assertError(decl + "(assert (<= X_0 inf))", line: 3, column: 17, "unknown symbol 'inf'")
        assertError(decl + "(assert (<= X_0 nan))", line: 3, column: 17, "unknown symbol 'nan'")
        assertError(decl + "(assert (<= X_0 1e999))", line: 3, column: 17, "out of the range of Double")
        assertError(decl + "(assert (<= X_0 0x10))", line: 3, column: 17, "malformed number '0x10'")
        assertError(decl + "(assert (<= X_0 1,5))", line: 3, column: 18, "unexpected character ','")
        assertError(decl + "(assert (<= X_0 #b101))", line: 3, column: 17, "unexpected character '#'")
        assertError(decl + "(assert (≤ X_0 1))", line: 3, column: 10, "unexpected byte 0xE2")
        assertError(decl + "(assert (<= X_0 1\u{0}))", line: 3, column: 18, "unexpected byte 0x00")
        assertError("\u{1F}\u{8B}\u{8}\u{0}", line: 1, column: 1, "gzip-compressed")
        assertError(decl + "(assert (<= X_0 assert))", line: 3, column: 17, "expected a number, a variable or '(' but found 'assert'")
        assertError(decl + "(assert (<= X_0 \"s\"))", line: 3, column: 17, "found a string literal")
        assertError(decl + "(assert X_0)", line: 3, column: 9, "expected '(' starting a formula but found 'X_0'")
        assertError(decl + "(assert (and X_0))", line: 3, column: 14, "expected '(' starting a formula or ')' closing 'and' but found 'X_0'")
        assertError(decl + "(assert (or (+ X_0 1)))", line: 3, column: 14, "expected a formula operator")
        assertError(decl + "(assert (<= (and X_0) 1))", line: 3, column: 14, "expected a term operator (+, -, *) but found 'and'")
        assertError(decl + "(assert (<= (/ X_0 2) 1))", line: 3, column: 14, "unsupported operator '/'", kind: .unsupported)
        assertError(decl + "(assert (not (<= X_0 1)))", line: 3, column: 10, "unsupported operator 'not'", kind: .unsupported)
        assertError(decl + "(push 1)", line: 3, column: 2, "unsupported command 'push'", kind: .unsupported)
        assertError(decl + "(declare-const 1 Real)", line: 3, column: 16, "expected a variable name")
    }

    func testArity() {
        assertError(decl + "(assert (<= X_0))", line: 3, column: 16, "'<=' takes exactly 2 arguments but found 1")
        assertError(decl + "(assert (>=))", line: 3, column: 12, "'>=' takes exactly 2 arguments but found 0")
        assertError(decl + "(assert (<= X_0 1 2))", line: 3, column: 19, "'<=' takes exactly 2 arguments but found a third: number '2'")
        assertError(decl + "(assert (and))", line: 3, column: 9, "'and' needs at least one argument")
        assertError(decl + "(assert (or))", line: 3, column: 9, "'or' needs at least one argument")
        assertError(decl + "(assert (<= (+) 1))", line: 3, column: 15, "'+' needs at least one argument")
        assertError(decl + "(assert (<= (* X_0 Y_0) 1))", line: 3, column: 20, "nonlinear term", kind: .unsupported)
        assertError(decl + "(assert (<= X_0 1) (<= X_0 2))", line: 3, column: 20, "expected ')' but found '('")
    }

    func testDeclarationErrors() {
        assertError("(declare-const X_0 Real)\n(declare-const X_0 Real)", line: 2, column: 16, "duplicate declaration of 'X_0'", kind: .declaration)
        assertError("(declare-const X_0 Int)", line: 1, column: 20, "unsupported sort 'Int'", kind: .unsupported)
        assertError("(declare-const X_0 Bool)", line: 1, column: 20, "unsupported sort 'Bool'")
        assertError("(declare-const Z_0 Real)", line: 1, column: 16, "unsupported variable name 'Z_0'", kind: .unsupported)
        assertError("(declare-const X_01 Real)", line: 1, column: 16, "unsupported variable name 'X_01'")
        assertError("(declare-const x_0 Real)", line: 1, column: 16, "unsupported variable name 'x_0'")
        assertError("(declare-fun X_0 (Real) Real)", line: 1, column: 19, "functions with parameters are not supported")
        // Use before declaration.
        assertError("(declare-const Y_0 Real)\n(assert (<= X_0 1))\n(declare-const X_0 Real)", line: 2, column: 13,
                    "undeclared variable 'X_0'", kind: .declaration)
        assertError(decl + "(assert (<= Y_1 1))", line: 3, column: 13, "undeclared variable 'Y_1'")
        // Gaps in the indices.
        assertError("(declare-const X_0 Real)\n(declare-const X_2 Real)\n(declare-const Y_0 Real)", line: 2, column: 16,
                    "X_2 is declared but X_1 is not", kind: .declaration)
        assertError("(declare-const X_0 Real)\n(declare-const Y_1 Real)", line: 2, column: 16, "Y_1 is declared but Y_0 is not")
        assertError("(declare-const X_0 Real)", line: nil, column: nil, "no output variables declared")
    }

    func testHugeDeclaredDimensionsDoNotAllocate() {
        assertError("(declare-const X_999999999999 Real)", line: 1, column: 16, "exceeds the limit of 10000000 inputs", kind: .limit)
        assertError("(declare-const Y_99999999999999999999999999999999999 Real)", line: 1, column: 16, "exceeds the limit")
        // Within the limit but far from contiguous: a bit set of ~1 MB, then a clear error.
        assertError("(declare-const X_9999999 Real)(declare-const Y_0 Real)", line: 1, column: 16, "X_9999999 is declared but X_0 is not")
        var small = VNNLibParser.Limits()
        small.maxVariables = 3
        assertError("(declare-const X_3 Real)", line: 1, column: 16, "exceeds the limit of 3 inputs", limits: small)
    }

    func testMissingBounds() {
        assertError(decl + "(assert (<= X_0 1))(assert (<= Y_0 0))", line: nil, column: nil,
                    "input X_0 has no lower bound; every input needs a constant lower and upper bound", kind: .semantic)
        assertError(decl + "(assert (>= X_0 1))", line: nil, column: nil, "input X_0 has no upper bound")
        assertError(decl + "(assert (or (and (>= X_0 0) (<= X_0 1)) (and (>= X_0 2))))", line: nil, column: nil,
                    "input X_0 has no upper bound in input box 2 of 2")
        // An input bounded only through a two-variable constraint is still unbounded.
        assertError("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(assert (>= X_0 0))(assert (<= X_0 1))(assert (<= X_1 X_0))(assert (>= X_1 0))",
                    line: nil, column: nil, "X_1 has no upper bound")
    }

    func testDeepNestingIsALimitNotAStackOverflow() {
        let depth = 1_000_000
        let ands = decl + "(assert " + String(repeating: "(and ", count: depth) + "(<= X_0 1)" + String(repeating: ")", count: depth) + ")"
        assertError(ands, line: 3, column: 9 + 5 * 1_000, "formula nested deeper than 1000 levels", kind: .limit)
        let sums = decl + "(assert (<= " + String(repeating: "(+ ", count: depth) + "X_0" + String(repeating: ")", count: depth) + " 1))"
        assertError(sums, line: 3, column: 13 + 3 * 999, "formula nested deeper than 1000 levels")
        let opens = String(repeating: "(", count: depth)
        assertError(opens, line: 1, column: 2, "expected a command (declare-const or assert) but found '('")
        let skipped = "(set-info " + opens
        assertError(skipped, line: 1, column: 11 + depth, "never closed")
        // Nesting below the limit works.
        let ok = decl + "(assert (>= X_0 0))(assert " + String(repeating: "(or ", count: 999) + "(<= X_0 1)" + String(repeating: ")", count: 999) + ")(assert (<= Y_0 0))"
        XCTAssertEqual(try? VNNLibParser.parse(text: ok).cases.first?.upper, [1])
    }

    func testDNFExplosionIsALimit() {
        // 2^20 disjuncts if multiplied out.
        let or = "(assert (or (<= Y_0 0) (<= Y_0 1)))\n"
        let text = decl + "(assert (>= X_0 0))(assert (<= X_0 1))\n" + String(repeating: or, count: 20)
        assertError(text, line: 20, column: 1, "expands to more than 100000 disjuncts", kind: .limit)
        let nested = decl + "(assert (and " + String(repeating: "(or (<= Y_0 0) (<= Y_0 1)) ", count: 20) + "))"
        assertError(nested, line: 3, column: 14 + 27 * 16, "expands to more than 100000 disjuncts")
        var small = VNNLibParser.Limits()
        small.maxDisjuncts = 3
        assertError(decl + "(assert (or (<= Y_0 0) (<= Y_0 1) (<= Y_0 2) (<= Y_0 3)))", line: 3, column: 46,
                    "more than 3 disjuncts", limits: small)
    }

    func testOverlongTokens() {
        let long = String(repeating: "1", count: 5000)
        assertError(decl + "(assert (<= X_0 \(long)))", line: 3, column: 17, "token longer than 4096 characters", kind: .limit)
        assertError(decl + "(assert (<= X_0 |\(long)|))", line: 3, column: 17, "token longer than 4096 characters")
    }

    func testRandomGarbageNeverCrashes() {
        // Deterministic fuzzing: mutate a valid file byte by byte and by truncation; every
        // outcome must be a specification or a VNNLibError with a location inside the text.
        let base = """
        ; fuzz
        (declare-const X_0 Real)
        (declare-const X_1 Real)
        (declare-const Y_0 Real)
        (assert (or (and (>= X_0 -1) (<= X_0 1e-1) (<= X_1 1) (>= X_1 -1) (>= Y_0 (+ X_0 (* 2 X_1))))
                    (and (>= X_0 0) (<= X_0 1) (= X_1 0.5) (< Y_0 -3))))
        """
        let bytes = Array(base.utf8)
        let alphabet = Array("()<=>-+*.;e0123456789XY_ \n\t|\"#andor".utf8) + [0, 0xFF]
        var state: UInt64 = 0x9E3779B97F4A7C15
        func random(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var outcomes = (ok: 0, failed: 0)
        for trial in 0..<3_000 {
            var mutated = bytes
            switch trial % 3 {
            case 0: mutated = Array(mutated.prefix(random(mutated.count)))
            case 1: for _ in 0...random(4) { mutated[random(mutated.count)] = alphabet[random(alphabet.count)] }
            default: mutated.insert(alphabet[random(alphabet.count)], at: random(mutated.count))
            }
            do {
                _ = try VNNLibParser.parse(text: String(decoding: mutated, as: UTF8.self))
                outcomes.ok += 1
            } catch {
                outcomes.failed += 1
                if let location = error.location {
                    XCTAssertGreaterThanOrEqual(location.line, 1)
                    XCTAssertLessThanOrEqual(location.line, 12, "\(error)")
                }
            }
        }
        XCTAssertGreaterThan(outcomes.failed, 1_000)
    }
}
