import XCTest
@testable import VNNLib

/// One test per syntax feature of VNNLIB that the parser accepts.
final class SyntaxTests: XCTestCase {
    func testCommentsTabsAndMultiLineStatements() throws {
        let s = try parse("""
        ; leading comment (with parentheses) and ünïcödé
        (declare-const X_0 Real) ; trailing comment
        (declare-const
        \tY_0
        \tReal)
        (assert
           (<=
        \t\tX_0
              0.5))(assert (>= X_0 -0.5));no space before the comment
        (assert (or ; comment inside a formula
        \t(and (>= Y_0 1))
        ))
        """)
        XCTAssertEqual(s.inputCount, 1)
        XCTAssertEqual(s.cases[0].lower, [-0.5])
        XCTAssertEqual(s.cases[0].upper, [0.5])
        XCTAssertEqual(s.cases[0].violation, [[LinearConstraint(terms: [(.output(0), -1)], bound: -1)]])
    }

    func testCRLFLineEndings() throws {
        let s = try parse("(declare-const X_0 Real)\r\n(declare-const Y_0 Real)\r\n(assert (<= X_0 1))\r\n(assert (>= X_0 0))\r\n(assert (<= Y_0 0))\r\n")
        XCTAssertEqual(s.cases[0].upper, [1])
        assertError("(declare-const X_0 Real)\r\n(assert (<= X_0 1)) )", line: 2, column: 21, "expected '(' starting a command")
    }

    func testNumberFormats() throws {
        let values: [(String, Double)] = [
            ("3", 3), ("-3", -3), ("+3", 3), ("0.5", 0.5), ("-0.5", -0.5), (".5", 0.5), ("-.5", -0.5), ("5.", 5),
            ("-1e-06", -1e-06), ("2.1e-05", 2.1e-05), ("1E3", 1000), ("+1.5e+2", 150), ("0.029999999329447746", 0.029999999329447746),
            ("0.49999999998567607", 0.49999999998567607), ("123456789012345678901234567890", 123456789012345678901234567890.0),
            ("1e-400", 0),
        ]
        for (text, value) in values {
            let s = try parse("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (<= X_0 \(text)))(assert (>= X_0 -1e9))(assert (<= Y_0 0))")
            XCTAssertEqual(s.cases[0].upper[0], value, text)
        }
    }

    func testAllFiveOperatorsAndTheStrictFlag() throws {
        let s = try parse(header2x2 + box2 + """
        (assert (<= Y_0 1))
        (assert (>= Y_0 2))
        (assert (< Y_0 3))
        (assert (> Y_0 4))
        (assert (= Y_1 5))
        """)
        let c = s.cases[0].violation[0]
        XCTAssertEqual(c, [
            LinearConstraint(terms: [(.output(0), 1)], bound: 1),
            LinearConstraint(terms: [(.output(0), -1)], bound: -2),
            LinearConstraint(terms: [(.output(0), 1)], bound: 3, isStrict: true),
            LinearConstraint(terms: [(.output(0), -1)], bound: -4, isStrict: true),
            LinearConstraint(terms: [(.output(1), 1)], bound: 5),
            LinearConstraint(terms: [(.output(1), -1)], bound: -5),
        ])
    }

    func testConstantOnTheLeft() throws {
        let s = try parse(header2x2 + """
        (assert (<= -1 X_0)) (assert (>= 1 X_0))
        (assert (< -2 X_1)) (assert (> 2 X_1))
        (assert (<= 3 Y_0))
        """)
        XCTAssertEqual(s.cases[0].lower, [-1, -2])
        XCTAssertEqual(s.cases[0].upper, [1, 2])
        // Strict input bounds keep a closed box and the exact strict constraint.
        XCTAssertEqual(s.cases[0].violation[0], [
            LinearConstraint(terms: [(.input(1), -1)], bound: 2, isStrict: true),
            LinearConstraint(terms: [(.input(1), 1)], bound: 2, isStrict: true),
            LinearConstraint(terms: [(.output(0), -1)], bound: -3),
        ])
    }

    func testEqualityOnAnInputFixesIt() throws {
        let s = try parse(header2x2 + "(assert (= X_0 0.25))(assert (= -0.5 X_1))(assert (<= Y_0 Y_1))")
        XCTAssertEqual(s.cases[0].lower, [0.25, -0.5])
        XCTAssertEqual(s.cases[0].upper, [0.25, -0.5])
        XCTAssertEqual(s.constraintCount, 1)
    }

    func testTightestBoundWins() throws {
        let s = try parse(header2x2 + box2 + "(assert (<= X_0 0.5))(assert (<= X_0 0.75))(assert (>= X_1 0))(assert (>= X_1 -3))(assert (<= Y_0 0))")
        XCTAssertEqual(s.cases[0].lower, [-1, 0])
        XCTAssertEqual(s.cases[0].upper, [0.5, 1])
    }

    func testTwoVariableInputConstraintsStayConstraints() throws {
        let s = try parse(header2x2 + box2 + "(assert (<= X_0 X_1))(assert (<= Y_0 0))")
        XCTAssertEqual(s.cases[0].lower, [-1, -1])
        XCTAssertEqual(s.cases[0].violation[0].first, LinearConstraint(terms: [(.input(0), 1), (.input(1), -1)], bound: 0))
    }

    func testMixedInputOutputConstraint() throws {
        let s = try parse(header2x2 + box2 + "(assert (>= Y_0 X_1))")
        XCTAssertEqual(s.cases[0].violation[0], [LinearConstraint(terms: [(.input(1), 1), (.output(0), -1)], bound: 0)])
    }

    func testLinearTerms() throws {
        let s = try parse(header2x2 + box2 + """
        (assert (<= (+ Y_0 (* 2 Y_1) 3) (- X_0 1)))
        (assert (>= (* Y_0 -0.5) (- Y_1)))
        (assert (<= (- Y_0 Y_1 Y_1 2) (+ 1)))
        (assert (<= (* 2 3 Y_0) (* 2 (+ 1 1))))
        (assert (<= (+ Y_0 Y_1 (- Y_0)) (* 0.5 (+ X_0 X_0))))
        """)
        XCTAssertEqual(s.cases[0].violation[0], [
            // Y_0 + 2·Y_1 + 3 ≤ X_0 - 1  ⇒  -X_0 + Y_0 + 2·Y_1 ≤ -4
            LinearConstraint(terms: [(.input(0), -1), (.output(0), 1), (.output(1), 2)], bound: -4),
            // -0.5·Y_0 ≥ -Y_1  ⇒  0.5·Y_0 - Y_1 ≤ 0
            LinearConstraint(terms: [(.output(0), 0.5), (.output(1), -1)], bound: 0),
            // Y_0 - 2·Y_1 - 2 ≤ 1
            LinearConstraint(terms: [(.output(0), 1), (.output(1), -2)], bound: 3),
            // 6·Y_0 ≤ 4
            LinearConstraint(terms: [(.output(0), 6)], bound: 4),
            // Y_1 ≤ X_0 (the Y_0 terms cancel)
            LinearConstraint(terms: [(.input(0), -1), (.output(1), 1)], bound: 0),
        ])
    }

    func testScaledInputBoundsBecomeBoxBounds() throws {
        let s = try parse(header2x2 + """
        (assert (<= (* 2 X_0) 1)) (assert (>= (* 2 X_0) -1))
        (assert (<= (* 3 X_1) 1)) (assert (>= (- X_1) -2)) (assert (>= X_1 0))
        (assert (<= Y_0 0))
        """)
        XCTAssertEqual(s.cases[0].lower[0], -0.5)
        XCTAssertEqual(s.cases[0].upper[0], 0.5)
        // 1/3 is inexact: the box is rounded outward and the exact row is kept.
        XCTAssertGreaterThanOrEqual(s.cases[0].upper[1], 1.0 / 3.0)
        XCTAssertEqual(s.cases[0].upper[1], (1.0 / 3.0).nextUp)
        XCTAssertEqual(s.cases[0].violation[0], [
            LinearConstraint(terms: [(.input(1), 3)], bound: 1),
            LinearConstraint(terms: [(.output(0), 1)], bound: 0),
        ])
    }

    func testSeveralAssertsAreAConjunction() throws {
        let s = try parse(header2x2 + box2 + "(assert (<= Y_0 1))(assert (and (<= Y_1 2) (<= Y_0 Y_1)))")
        XCTAssertEqual(s.disjunctCount, 1)
        XCTAssertEqual(s.constraintCount, 3)
    }

    func testNestedAndOr() throws {
        let s = try parse(header2x2 + box2 + """
        (assert (or (and (<= Y_0 0) (or (<= Y_1 1) (<= Y_1 2))) (<= Y_0 3)))
        (assert (or (>= Y_0 -1) (>= Y_1 -2)))
        """)
        // (a∧(b∨c) ∨ d) ∧ (e ∨ f) = abe ∨ abf ∨ ace ∨ acf ∨ de ∨ df
        XCTAssertEqual(s.boxCount, 1)
        XCTAssertEqual(s.cases[0].violation.map { $0.map(\.bound) }, [
            [0, 1, 1], [0, 1, 2], [0, 2, 1], [0, 2, 2], [3, 1], [3, 2],
        ])
    }

    func testOrAndMixingInputsAndOutputs() throws {
        let s = try parse(header2x2 + """
        (assert (or
            (and (>= X_0 -1) (<= X_0 0) (>= X_1 0) (<= X_1 1) (>= Y_0 100))
            (and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 1) (>= Y_1 100) (<= X_0 X_1))
            (and (<= X_1 1) (>= X_0 -1) (<= X_0 0) (>= X_1 0) (<= Y_0 -100))
        ))
        """)
        XCTAssertEqual(s.boxCount, 2)
        XCTAssertEqual(s.cases[0].lower, [-1, 0])
        XCTAssertEqual(s.cases[0].upper, [0, 1])
        XCTAssertEqual(s.cases[0].violation, [
            [LinearConstraint(terms: [(.output(0), -1)], bound: -100)],
            [LinearConstraint(terms: [(.output(0), 1)], bound: -100)],
        ])
        XCTAssertEqual(s.cases[1].lower, [0, 0])
        XCTAssertEqual(s.cases[1].violation, [[
            LinearConstraint(terms: [(.output(1), -1)], bound: -100),
            LinearConstraint(terms: [(.input(0), 1), (.input(1), -1)], bound: 0),
        ]])
    }

    func testSharedBoxCombinesWithDisjunctiveBoxes() throws {
        let s = try parse(header2x2 + """
        (assert (>= X_1 -1)) (assert (<= X_1 1))
        (assert (or (and (>= X_0 -1) (<= X_0 0)) (and (>= X_0 0) (<= X_0 1) (<= X_1 0.5))))
        (assert (or (<= Y_0 0) (<= Y_1 0)))
        """)
        XCTAssertEqual(s.boxCount, 2)
        XCTAssertEqual(s.disjunctCount, 4)
        XCTAssertEqual(s.cases[0].upper, [0, 1])
        XCTAssertEqual(s.cases[1].lower, [0, -1])
        XCTAssertEqual(s.cases[1].upper, [1, 0.5])
    }

    func testBoxOnlyDisjunctHasAnEmptyConjunction() throws {
        let s = try parse("(declare-const X_0 Real)(declare-const Y_0 Real)(assert (or (and (>= X_0 -1) (<= X_0 1))))")
        XCTAssertEqual(s.cases[0].violation, [[]])
        XCTAssertEqual(s.constraintCount, 0)
    }

    func testDeclarationsInAnyOrderAndInterleaved() throws {
        let s = try parse("""
        (declare-const Y_1 Real)(declare-const X_1 Real)(declare-const Y_0 Real)
        (assert (<= X_1 1))(assert (>= X_1 0))
        (declare-const X_0 Real)
        (assert (<= X_0 1))(assert (>= X_0 0))(assert (<= Y_1 Y_0))
        """)
        XCTAssertEqual(s.inputCount, 2)
        XCTAssertEqual(s.outputCount, 2)
    }

    func testIgnoredCommandsAndQuotedSymbols() throws {
        let s = try parse("""
        (set-logic QF_LRA)
        (set-info :source |a quoted
        symbol over two lines|)
        (set-info :note "a ""string"" (with parens)")
        (declare-fun |X_0| () Real)
        (declare-const Y_0 Real)
        (assert (<= |X_0| 1))(assert (>= X_0 0))(assert (<= Y_0 0))
        (check-sat)
        (get-model)
        (exit)
        """)
        XCTAssertEqual(s.cases[0].upper, [1])
    }

    func testConstantComparisons() throws {
        let s = try parse(header2x2 + box2 + "(assert (<= 0 1))(assert (<= X_0 X_0))(assert (or (<= 1 0) (<= Y_0 0)))")
        XCTAssertEqual(s.disjunctCount, 1)
        XCTAssertEqual(s.warnings.count, 1, "\(s.warnings)")
        XCTAssertTrue(s.warnings[0].contains("always false"), "\(s.warnings)")
    }

    func testEmptyInputStringIsAnError() {
        assertError("", line: nil, column: nil, "no input variables declared", kind: .declaration)
    }
}
