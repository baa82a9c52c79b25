import XCTest
@testable import VNNLib

/// The VNN-COMP properties in the shared benchmark folder: all must parse, and a sample is
/// checked against counts and bounds read off the files by hand.
final class BenchmarkFileTests: XCTestCase {
    private func spec(_ relative: String) throws -> Specification {
        let dir = try TestSupport.requireBenchmarks()
        return try VNNLibParser.parse(contentsOf: dir + "/" + relative)
    }

    private func assertShape(_ s: Specification, inputs: Int, outputs: Int, boxes: Int, disjuncts: Int,
                             constraints: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(s.inputCount, inputs, "inputs", file: file, line: line)
        XCTAssertEqual(s.outputCount, outputs, "outputs", file: file, line: line)
        XCTAssertEqual(s.boxCount, boxes, "boxes", file: file, line: line)
        XCTAssertEqual(s.disjunctCount, disjuncts, "disjuncts", file: file, line: line)
        XCTAssertEqual(s.constraintCount, constraints, "constraints", file: file, line: line)
        XCTAssertEqual(s.warnings, [], file: file, line: line)
        for c in s.cases {
            XCTAssertEqual(c.lower.count, inputs, file: file, line: line)
            XCTAssertEqual(c.upper.count, inputs, file: file, line: line)
        }
    }

    func testEveryBenchmarkFileParses() throws {
        let dir = try TestSupport.requireBenchmarks()
        let files = TestSupport.vnnlibFiles(in: dir)
        XCTAssertGreaterThanOrEqual(files.count, 150, "expected the 156 VNN-COMP properties under \(dir)")
        for path in files {
            do {
                let s = try VNNLibParser.parse(contentsOf: path)
                XCTAssertGreaterThan(s.boxCount, 0, path)
                XCTAssertGreaterThan(s.disjunctCount, 0, path)
                XCTAssertEqual(s.warnings, [], path)
                for c in s.cases {
                    XCTAssertEqual(c.lower.count, s.inputCount, path)
                    XCTAssertEqual(c.upper.count, s.inputCount, path)
                    let badBox = (0..<s.inputCount).first {
                        !(c.lower[$0].isFinite && c.upper[$0].isFinite && c.lower[$0] <= c.upper[$0])
                    }
                    XCTAssertNil(badBox, "\(path): bad bounds for an input")
                    let inRange = c.violation.joined().allSatisfy { constraint in
                        constraint.terms.allSatisfy {
                            switch $0.variable {
                            case .input(let i): i < s.inputCount
                            case .output(let j): j < s.outputCount
                            }
                        }
                    }
                    XCTAssertTrue(inRange, "\(path): a constraint mentions an undeclared variable")
                }
            } catch {
                XCTFail("\(error)")
            }
        }
    }

    func testACASXuProperty1() throws {
        let s = try spec("acasxu/vnnlib/prop_1.vnnlib")
        assertShape(s, inputs: 5, outputs: 5, boxes: 1, disjuncts: 1, constraints: 1)
        let c = s.cases[0]
        XCTAssertEqual(c.lower, [0.6, -0.5, -0.5, 0.45, -0.5])
        XCTAssertEqual(c.upper, [0.679857769, 0.5, 0.5, 0.5, -0.45])
        // (>= Y_0 3.991125645861615)  ⇒  -Y_0 ≤ -3.991125645861615
        XCTAssertEqual(c.violation[0], [LinearConstraint(terms: [(.output(0), -1)], bound: -3.991125645861615)])
    }

    func testACASXuProperty2IsOneConjunctionOfFour() throws {
        let s = try spec("acasxu/vnnlib/prop_2.vnnlib")
        assertShape(s, inputs: 5, outputs: 5, boxes: 1, disjuncts: 1, constraints: 4)
        // (<= Y_1 Y_0)  ⇒  -Y_0 + Y_1 ≤ 0, terms sorted by variable.
        XCTAssertEqual(s.cases[0].violation[0][0], LinearConstraint(terms: [(.output(0), -1), (.output(1), 1)], bound: 0))
    }

    func testACASXuProperties3To5() throws {
        assertShape(try spec("acasxu/vnnlib/prop_3.vnnlib"), inputs: 5, outputs: 5, boxes: 1, disjuncts: 1, constraints: 4)
        let p4 = try spec("acasxu/vnnlib/prop_4.vnnlib")
        assertShape(p4, inputs: 5, outputs: 5, boxes: 1, disjuncts: 1, constraints: 4)
        XCTAssertEqual(p4.cases[0].lower[2], 0)  // (<= X_2 0.0) (>= X_2 0.0): a point interval
        XCTAssertEqual(p4.cases[0].upper[2], 0)
        assertShape(try spec("acasxu/vnnlib/prop_5.vnnlib"), inputs: 5, outputs: 5, boxes: 1, disjuncts: 4, constraints: 4)
    }

    func testACASXuProperty6HasTwoBoxes() throws {
        let s = try spec("acasxu/vnnlib/prop_6.vnnlib")
        assertShape(s, inputs: 5, outputs: 5, boxes: 2, disjuncts: 8, constraints: 8)
        XCTAssertEqual(s.cases[0].lower, [-0.129289109, 0.11140846, -0.499999896, -0.5, -0.5])
        XCTAssertEqual(s.cases[0].upper, [0.700434925, 0.499999896, -0.499204121, 0.5, 0.5])
        XCTAssertEqual(s.cases[1].lower, [-0.129289109, -0.499999896, -0.499999896, -0.5, -0.5])
        XCTAssertEqual(s.cases[1].upper, [0.700434925, -0.11140846, -0.499204121, 0.5, 0.5])
        for c in s.cases {
            XCTAssertEqual(c.violation.map { $0.map(terms) }, [
                [["Y_0*-1.0", "Y_1*1.0"]], [["Y_0*-1.0", "Y_2*1.0"]], [["Y_0*-1.0", "Y_3*1.0"]], [["Y_0*-1.0", "Y_4*1.0"]],
            ])
        }
    }

    func testACASXuProperties7To10() throws {
        let p7 = try spec("acasxu/vnnlib/prop_7.vnnlib")
        assertShape(p7, inputs: 5, outputs: 5, boxes: 1, disjuncts: 2, constraints: 6)
        // (and (<= Y_3 Y_0) (<= Y_3 Y_1) (<= Y_3 Y_2))
        XCTAssertEqual(p7.cases[0].violation[0].map(terms), [["Y_0*-1.0", "Y_3*1.0"], ["Y_1*-1.0", "Y_3*1.0"], ["Y_2*-1.0", "Y_3*1.0"]])
        XCTAssertEqual(p7.cases[0].violation[1].map(terms), [["Y_0*-1.0", "Y_4*1.0"], ["Y_1*-1.0", "Y_4*1.0"], ["Y_2*-1.0", "Y_4*1.0"]])
        assertShape(try spec("acasxu/vnnlib/prop_8.vnnlib"), inputs: 5, outputs: 5, boxes: 1, disjuncts: 3, constraints: 6)
        let p9 = try spec("acasxu/vnnlib/prop_9.vnnlib")
        assertShape(p9, inputs: 5, outputs: 5, boxes: 1, disjuncts: 4, constraints: 4)
        XCTAssertEqual(p9.cases[0].lower, [-0.295233916, -0.063661977, -0.499999896, -0.5, -0.5])
        XCTAssertEqual(p9.cases[0].upper, [-0.212261512, -0.022281692, -0.498408347, -0.454545455, -0.375])
        assertShape(try spec("acasxu/vnnlib/prop_10.vnnlib"), inputs: 5, outputs: 5, boxes: 1, disjuncts: 4, constraints: 4)
    }

    func testMNISTFC() throws {
        let s = try spec("mnistfc/vnnlib/prop_0_0.03.vnnlib")
        assertShape(s, inputs: 784, outputs: 10, boxes: 1, disjuncts: 9, constraints: 9)
        XCTAssertEqual(s.cases[0].lower[100], 0)
        XCTAssertEqual(s.cases[0].upper[100], 0.029999999329447746)
        // (>= Y_0 Y_8)  ⇒  -Y_0 + Y_8 ≤ 0
        XCTAssertEqual(s.cases[0].violation[0], [LinearConstraint(terms: [(.output(0), -1), (.output(8), 1)], bound: 0)])
        XCTAssertEqual(s.cases[0].violation[8], [LinearConstraint(terms: [(.output(8), 1), (.output(9), -1)], bound: 0)])
    }

    func testMNISTGDVB() throws {
        let s = try spec("mnist_gdvb/vnnlib/prop_1_0.03.vnnlib")
        assertShape(s, inputs: 784, outputs: 10, boxes: 1, disjuncts: 9, constraints: 9)
        XCTAssertEqual(s.cases[0].upper[783], 0.029999999329447746)
    }

    func testOVAL21() throws {
        let s = try spec("oval21/vnnlib/cifar_base_kw-img1598-eps0.0026143790849673205.vnnlib")
        assertShape(s, inputs: 3072, outputs: 10, boxes: 1, disjuncts: 9, constraints: 9)
        XCTAssertEqual(s.cases[0].lower[3], -1.400290608406067)
        XCTAssertEqual(s.cases[0].upper[3], -1.3770517110824585)
        XCTAssertEqual(s.cases[0].lower[3071], 0.4323022961616516)
        XCTAssertEqual(s.cases[0].upper[3071], 0.4555412232875824)
        // Tab-indented (and (<= Y_5 Y_0)) ⇒ Y_5 - Y_0 ≤ 0.
        XCTAssertEqual(s.cases[0].violation[0].map(terms), [["Y_0*-1.0", "Y_5*1.0"]])
    }

    func testCIFAR10ResNet() throws {
        let s = try spec("cifar10_resnet/vnnlib/resnet4b_pgd_filtered/prop_6_eps_0.004.vnnlib")
        assertShape(s, inputs: 3072, outputs: 10, boxes: 1, disjuncts: 9, constraints: 9)
        XCTAssertEqual(s.cases[0].lower[4], 0.29666492342948914)
        XCTAssertEqual(s.cases[0].upper[4], 0.3284056782722473)
        XCTAssertEqual(s.cases[0].upper[3071], 1.0065135955810547)
    }

    func testSmokeTestProperties() throws {
        let small = try spec("test/vnnlib/test_small.vnnlib")
        assertShape(small, inputs: 1, outputs: 1, boxes: 1, disjuncts: 1, constraints: 1)
        XCTAssertEqual(small.cases[0].lower, [-1])
        XCTAssertEqual(small.cases[0].upper, [1])
        XCTAssertEqual(small.cases[0].violation, [[LinearConstraint(terms: [(.output(0), -1)], bound: -100)]])
        let nano = try spec("test/vnnlib/test_nano.vnnlib")
        assertShape(nano, inputs: 1, outputs: 1, boxes: 1, disjuncts: 1, constraints: 1)
        XCTAssertEqual(nano.cases[0].violation, [[LinearConstraint(terms: [(.output(0), 1)], bound: -1)]])
        assertShape(try spec("test/vnnlib/test_tiny.vnnlib"), inputs: 1, outputs: 1, boxes: 1, disjuncts: 1, constraints: 1)
        let prop = try spec("test/vnnlib/test_prop.vnnlib")
        assertShape(prop, inputs: 5, outputs: 5, boxes: 1, disjuncts: 1, constraints: 4)
        XCTAssertEqual(prop.cases[0].upper[2], 0.49999999998567607)
    }

    func testFileErrorsNameThePath() {
        XCTAssertThrowsError(try VNNLibParser.parse(contentsOf: "/nonexistent/prop.vnnlib")) { error in
            let e = error as? VNNLibError
            XCTAssertEqual(e?.kind, .io)
            XCTAssertEqual(e?.description.hasPrefix("/nonexistent/prop.vnnlib: cannot open file"), true, "\(error)")
        }
        XCTAssertThrowsError(try VNNLibParser.parse(contentsOf: "/tmp")) { error in
            XCTAssertEqual((error as? VNNLibError)?.kind, .io, "\(error)")
        }
    }
}

/// Reading in tiny chunks must give exactly the same result: tokens, comments and line breaks
/// that straddle two reads are where a streaming lexer breaks.
final class ChunkBoundaryTests: XCTestCase {
    func testTinyChunksGiveTheSameSpecification() throws {
        let dir = try TestSupport.requireBenchmarks()
        let files = ["acasxu/vnnlib/prop_6.vnnlib", "acasxu/vnnlib/prop_7.vnnlib", "test/vnnlib/test_small.vnnlib",
                     "test/vnnlib/test_prop.vnnlib", "mnistfc/vnnlib/prop_0_0.03.vnnlib",
                     "oval21/vnnlib/cifar_base_kw-img1598-eps0.0026143790849673205.vnnlib"]
        for relative in files {
            let path = dir + "/" + relative
            let reference = try VNNLibParser.parse(contentsOf: path)
            for chunk in [1, 2, 3, 7, 64, 4093] {
                XCTAssertEqual(try VNNLibParser.parse(contentsOf: path, limits: .init(), chunkSize: chunk), reference,
                               "\(relative) with \(chunk)-byte reads")
            }
        }
    }

    func testErrorLocationsAreTheSameAcrossChunkSizes() throws {
        let text = "; comment ü\n(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0\t0.5))\n(assert (>= X_0 -0.5))\n(assert (<= Y_0 1.5e))\n"
        let path = NSTemporaryDirectory() + "/vnnlib-chunk-\(getpid()).vnnlib"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for chunk in [1, 2, 5, 1 << 20] {
            XCTAssertThrowsError(try VNNLibParser.parse(contentsOf: path, limits: .init(), chunkSize: chunk)) { error in
                let e = error as? VNNLibError
                XCTAssertEqual(e?.location, SourceLocation(line: 6, column: 17), "\(error)")
                XCTAssertEqual(e?.message, "malformed number '1.5e'")
            }
        }
    }
}
