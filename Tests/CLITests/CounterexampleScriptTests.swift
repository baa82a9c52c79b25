import Foundation
import XCTest

/// `scripts/check_counterexample.py`, the independent re-check of `sat` answers with
/// onnxruntime: it must accept good counterexamples and reject each kind of bad one.
final class CounterexampleScriptTests: XCTestCase {
    let network = CLI.bundledPath("onnx/tiny_hand_2x2.onnx")
    let property = CLI.bundledPath("vnnlib/tiny_hand_or.vnnlib")

    override func setUpWithError() throws {
        guard pythonWithONNXRuntime else {
            throw XCTSkip("python3 with numpy and onnxruntime is not installed (bash scripts/setup.sh --python installs them)")
        }
    }

    private func check(_ result: String, network: String? = nil, property: String? = nil, extra: [String] = []) throws -> (status: Int32, output: String) {
        let file = try makeTemporaryDirectory(for: self).appendingPathComponent("result.txt")
        try result.write(to: file, atomically: true, encoding: .utf8)
        return try runCounterexampleChecker([network ?? self.network, property ?? self.property, file.path] + extra)
    }

    func testAcceptsEveryBundledCounterexample() throws {
        let folder = CLI.bundled.appendingPathComponent("counterexamples")
        let instances = try CLI.bundledInstances()
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).filter({ $0.hasSuffix(".counterexample") }) {
            let vnnlib = "vnnlib/" + file.replacingOccurrences(of: ".counterexample", with: ".vnnlib")
            guard let instance = instances.first(where: { $0.vnnlib == vnnlib }) else { XCTFail("no instance for \(file)"); continue }
            let result = try runCounterexampleChecker([CLI.bundledPath(instance.onnx), CLI.bundledPath(vnnlib), folder.appendingPathComponent(file).path])
            XCTAssertEqual(result.status, 0, "\(file): \(result.output)")
        }
    }

    func testAcceptsBothLayoutsOfTheResultFile() throws {
        XCTAssertEqual(try check("sat\n((X_0 1.0)\n (X_1 1.0)\n (Y_0 2.25)\n (Y_1 1.5))\n").status, 0)
        XCTAssertEqual(try check("sat\n(\n(X_0 1.0)\n(X_1 1.0)\n(Y_0 2.25)\n(Y_1 1.5)\n)\n").status, 0)
        // Within the 1e-4 tolerance on the box.
        XCTAssertEqual(try check("sat\n((X_0 1.00005)\n (X_1 1.0)\n (Y_0 2.25005)\n (Y_1 1.50005))\n").status, 0)
    }

    func testRejectsAnInputOutsideTheBox() throws {
        let result = try check("sat\n((X_0 1.01)\n (X_1 1.0)\n (Y_0 2.26)\n (Y_1 1.51))\n")
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("X"), result.output)
    }

    func testRejectsPrintedOutputsThatTheNetworkDoesNotCompute() throws {
        let result = try check("sat\n((X_0 1.0)\n (X_1 1.0)\n (Y_0 2.25)\n (Y_1 1.6))\n")
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("Y_1"), result.output)
    }

    func testRejectsAPointWhereTheViolationDoesNotHold() throws {
        // (0, 0) is in the box and the outputs are right, but Y_0 = 0.25 > 0.2 and Y_1 = -0.5 < 1.4.
        let result = try check("sat\n((X_0 0.0)\n (X_1 0.0)\n (Y_0 0.25)\n (Y_1 -0.5))\n")
        XCTAssertEqual(result.status, 1, result.output)
        // The conjunction Y_0 >= 2 and Y_1 <= 0: (1, 1) gives Y_0 = 2.25 but Y_1 = 1.5.
        let conj = try check("sat\n((X_0 1.0)\n (X_1 1.0)\n (Y_0 2.25)\n (Y_1 1.5))\n", property: CLI.bundledPath("vnnlib/tiny_hand_y0_ge_2.vnnlib"))
        XCTAssertEqual(conj.status, 1, conj.output)
    }

    func testRejectsMissingValuesAndNonSatFiles() throws {
        XCTAssertEqual(try check("sat\n((X_0 1.0)\n (Y_0 2.25)\n (Y_1 1.5))\n").status, 1)
        XCTAssertEqual(try check("sat\n((X_0 1.0)\n (X_1 oops)\n (Y_0 2.25)\n (Y_1 1.5))\n").status, 1)
        XCTAssertEqual(try check("unsat\n").status, 1)
        XCTAssertEqual(try check("").status, 1)
    }

    func testInputsInTheSecondOfTwoBoxes() throws {
        // lowdim_b1_or_b2: a point of B2 is in the region; check it against onnxruntime's own value.
        let lowdim = CLI.bundledPath("onnx/lowdim_5x12x12x12x5.onnx")
        let x = [-0.4, -0.4, -0.1, 0.4, 0.4]
        guard let y = try evaluate(lowdim, at: x) else { return }
        var text = "sat\n("
        for (i, v) in x.enumerated() { text += "(X_\(i) \(v))\n" }
        for (j, v) in y.enumerated() { text += "(Y_\(j) \(v))\n" }
        text += ")\n"
        // The property is unsat (Y_2 < 0.6 everywhere), so this point must be rejected for the
        // output condition, after passing the box and the onnxruntime comparison.
        let result = try check(text, network: lowdim, property: CLI.bundledPath("vnnlib/lowdim_b1_or_b2_y2_ge_0.6.vnnlib"))
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("violation"), "rejected for the output condition, not the box: \(result.output)")
    }

    func testUsageErrorsExitTwo() throws {
        XCTAssertEqual(try runCounterexampleChecker([network, property]).status, 2)
        XCTAssertEqual(try runCounterexampleChecker([network, "/nonexistent.vnnlib", property]).status, 2)
        XCTAssertEqual(try check("sat\n", extra: ["--tol", "-1"]).status, 2)
    }
}
