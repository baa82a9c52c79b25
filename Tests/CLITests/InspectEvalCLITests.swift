import Foundation
import XCTest

/// `nnverify inspect` and `nnverify eval`, run as a user would.
final class InspectEvalCLITests: XCTestCase {
    /// ReLU neurons per bundled network, from benchmarks/vnnlib/README.md's architecture table.
    static let reluCounts: [(network: String, inputs: Int, outputs: Int, relus: Int)] = [
        ("tiny_hand_2x2", 2, 2, 2),
        ("digits_16x16", 64, 10, 32),
        ("digits_32x32", 64, 10, 64),
        ("digits_24x24x24", 64, 10, 72),
        ("digits_norm_16x16", 64, 10, 32),
        ("digits_conv4", 64, 10, 64), // Conv 4×3×3 stride 2 pad 1 on 8×8: 4×4×4 ReLUs
        ("lowdim_5x12x12x12x5", 5, 5, 36),
    ]

    /// The integer right after `label` on the line that contains it, e.g. `ReLU neurons: 36`.
    private func number(after label: String, in text: String) -> Int? {
        guard let range = text.range(of: label) else { return nil }
        let digits = text[range.upperBound...].drop(while: { $0 == " " }).prefix(while: \.isNumber)
        return Int(digits)
    }

    /// The `(N values)` count on the first line that starts with `prefix` (after indentation).
    private func valueCount(line prefix: String, in text: String) -> Int? {
        guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }),
              let open = line.range(of: "(", options: .backwards) else { return nil }
        return Int(line[open.upperBound...].prefix(while: \.isNumber))
    }

    func testInspectPrintsInputsOutputsAndReLUCountsOfEveryBundledNetwork() throws {
        for entry in Self.reluCounts {
            let path = CLI.bundledPath("onnx/\(entry.network).onnx")
            let run = try CLI.invoke(["inspect", path], limit: 60)
            XCTAssertEqual(run.status, 0, "\(entry.network): \(run.summary)")
            XCTAssertEqual(valueCount(line: "input:", in: run.stdout), entry.inputs, "\(entry.network) input size: \(run.stdout)")
            XCTAssertEqual(valueCount(line: "output:", in: run.stdout), entry.outputs, "\(entry.network) output size: \(run.stdout)")
            XCTAssertEqual(number(after: "ReLU neurons:", in: run.stdout), entry.relus, "\(entry.network) ReLU count: \(run.stdout)")
        }
    }

    func testInspectTinyHandNetworkNamesItsInputAndOutputAndLayers() throws {
        let run = try CLI.invoke(["inspect", CLI.bundledPath("onnx/tiny_hand_2x2.onnx")], limit: 60)
        XCTAssertEqual(run.status, 0, run.summary)
        XCTAssertTrue(run.stdout.contains("tiny_hand_2x2.onnx"), "names the file: \(run.stdout)")
        XCTAssertTrue(run.stdout.contains("[1, 2]"), "input shape [1, 2]: \(run.stdout)")
        XCTAssertTrue(run.stdout.contains("output"), run.stdout)
        XCTAssertEqual(number(after: "ReLU layers:", in: run.stdout), 1, run.stdout)
        XCTAssertEqual(run.stderr, "", "no diagnostics for a good file")
    }

    func testInspectWithPropertySummarisesBoxesAndDisjuncts() throws {
        // Two input boxes (B1 or B2), one output atom Y_2 >= 0.6.
        var run = try CLI.invoke(["inspect", CLI.bundledPath("onnx/lowdim_5x12x12x12x5.onnx"),
                                  CLI.bundledPath("vnnlib/lowdim_b1_or_b2_y2_ge_0.6.vnnlib")], limit: 60)
        XCTAssertEqual(run.status, 0, run.summary)
        XCTAssertTrue(run.stdout.contains("lowdim_b1_or_b2_y2_ge_0.6.vnnlib"), run.stdout)
        XCTAssertEqual(number(after: "inputs:", in: run.stdout), 5, run.stdout)
        XCTAssertEqual(number(after: "outputs:", in: run.stdout), 5, run.stdout)
        XCTAssertEqual(number(after: "input boxes:", in: run.stdout), 2, run.stdout)

        // Robustness: one box, a disjunction of 9 atoms (Y_j >= Y_label for j != label).
        run = try CLI.invoke(["inspect", CLI.bundledPath("onnx/digits_conv4.onnx"),
                              CLI.bundledPath("vnnlib/digits_conv4_img1_eps0.1.vnnlib")], limit: 60)
        XCTAssertEqual(run.status, 0, run.summary)
        XCTAssertEqual(number(after: "inputs:", in: run.stdout), 64, run.stdout)
        XCTAssertEqual(number(after: "outputs:", in: run.stdout), 10, run.stdout)
        XCTAssertEqual(number(after: "input boxes:", in: run.stdout), 1, run.stdout)
        XCTAssertEqual(number(after: "disjuncts:", in: run.stdout), 9, run.stdout)

        // A conjunction of two output atoms: one disjunct.
        run = try CLI.invoke(["inspect", CLI.bundledPath("onnx/tiny_hand_2x2.onnx"),
                              CLI.bundledPath("vnnlib/tiny_hand_y0_ge_2.vnnlib")], limit: 60)
        XCTAssertEqual(run.status, 0, run.summary)
        XCTAssertEqual(number(after: "disjuncts:", in: run.stdout), 1, run.stdout)
        XCTAssertEqual(number(after: "constraints:", in: run.stdout), 2, run.stdout)
    }

    // MARK: eval

    /// The hand-made network, from benchmarks/vnnlib/README.md: with a = x0 + x1, b = x0 − x1,
    /// Y_0 = relu(a) + relu(b) + 0.25 and Y_1 = relu(a) − relu(b) − 0.5.
    private func tinyHand(_ x0: Double, _ x1: Double) -> [Double] {
        let a = max(x0 + x1, 0), b = max(x0 - x1, 0)
        return [a + b + 0.25, a - b - 0.5]
    }

    func testEvalTinyHandAgreesWithTheHandWrittenFunction() throws {
        var generator = SplitMix64(seed: 42)
        var points: [(Double, Double)] = [(0, 0), (1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1), (0.3, -0.7), (1e-3, -2e-3), (5, 3)]
        for _ in 0..<20 { points.append((Double.random(in: -2...2, using: &generator), Double.random(in: -2...2, using: &generator))) }
        let network = CLI.bundledPath("onnx/tiny_hand_2x2.onnx")
        for (x0, x1) in points {
            let run = try CLI.invoke(["eval", network], input: "\(x0) \(x1)\n", limit: 60)
            XCTAssertEqual(run.status, 0, run.summary)
            XCTAssertEqual(run.lines.count, 2, "one value per line, two outputs: \(run.summary)")
            let got = run.lines.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            let want = tinyHand(x0, x1)
            XCTAssertEqual(got.count, 2, "every line is a number: \(run.stdout)")
            for (g, w) in zip(got, want) {
                XCTAssertEqual(g, w, accuracy: 1e-12 * max(1, abs(w)), "at (\(x0), \(x1)): \(run.stdout)")
            }
        }
    }

    func testEvalReadsNumbersSeparatedByAnyWhitespaceAndScientificNotation() throws {
        let run = try CLI.invoke(["eval", CLI.bundledPath("onnx/tiny_hand_2x2.onnx")], input: "\t5e-1\n\n  -2.5E-1 \n", limit: 60)
        XCTAssertEqual(run.status, 0, run.summary)
        let got = run.lines.compactMap { Double($0) }
        XCTAssertEqual(got, tinyHand(0.5, -0.25), run.stdout)
    }

    func testEvalOfSeveralInputsPrintsEachInTurn() throws {
        let run = try CLI.invoke(["eval", CLI.bundledPath("onnx/tiny_hand_2x2.onnx")], input: "1 0\n0.5 0.5\n", limit: 60)
        XCTAssertEqual(run.status, 0, run.summary)
        let values = run.lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.compactMap { Double($0) }
        XCTAssertEqual(values, tinyHand(1, 0) + tinyHand(0.5, 0.5), run.stdout)
    }

    /// The bundled counterexample files hold float64 outputs computed by numpy (not by NNVerify):
    /// `eval` must reproduce them on every network kind (dense, normalised, conv, low-dimensional).
    func testEvalReproducesTheIndependentlyComputedCounterexampleOutputs() throws {
        let folder = CLI.bundled.appendingPathComponent("counterexamples")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".counterexample") }.sorted()
        XCTAssertEqual(files.count, 9, "the bundled suite has 9 sat instances")
        let instances = try CLI.bundledInstances()
        for file in files {
            let name = String(file.dropLast(".counterexample".count))
            guard let instance = instances.first(where: { $0.vnnlib == "vnnlib/\(name).vnnlib" }) else {
                XCTFail("no instance for \(file)")
                continue
            }
            let stored = try ParsedCounterexample(String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8))
            guard let y = try evaluate(CLI.bundledPath(instance.onnx), at: stored.x) else { continue }
            XCTAssertEqual(y.count, stored.y.count, file)
            for (j, (got, want)) in zip(y, stored.y).enumerated() {
                XCTAssertEqual(got, want, accuracy: 1e-6 * max(1, abs(want)), "\(file) Y_\(j)")
            }
        }
    }

    func testEvalWithTooManyNumbersFailsNamingTheCounts() throws {
        let run = try CLI.invoke(["eval", CLI.bundledPath("onnx/tiny_hand_2x2.onnx")], input: "1 2 3\n", limit: 60)
        XCTAssertNotEqual(run.status, 0, run.summary)
        XCTAssertFalse(run.signaled, run.summary)
        XCTAssertEqual(run.stdout, "", "no partial output")
        XCTAssertTrue(run.stderr.contains("3"), "says how many numbers it read: \(run.stderr)")
        XCTAssertTrue(run.stderr.contains("2"), "says how many the network needs: \(run.stderr)")
    }

    func testEvalWithTooFewNumbersFails() throws {
        let run = try CLI.invoke(["eval", CLI.bundledPath("onnx/digits_16x16.onnx")], input: "0.5 0.5 0.5\n", limit: 60)
        XCTAssertNotEqual(run.status, 0, run.summary)
        XCTAssertFalse(run.signaled, run.summary)
        XCTAssertEqual(run.stdout, "")
        XCTAssertTrue(run.stderr.contains("64"), "names the input size 64: \(run.stderr)")
    }

    func testEvalWithEmptyInputFails() throws {
        let run = try CLI.invoke(["eval", CLI.bundledPath("onnx/tiny_hand_2x2.onnx")], input: "", limit: 60)
        XCTAssertNotEqual(run.status, 0, run.summary)
        XCTAssertFalse(run.signaled, run.summary)
        XCTAssertFalse(run.stderr.isEmpty, "explains itself")
    }

    func testEvalWithANonNumberTokenFailsNamingTheToken() throws {
        for bad in ["1 abc", "0x1g 2", "1,5 2"] {
            let run = try CLI.invoke(["eval", CLI.bundledPath("onnx/tiny_hand_2x2.onnx")], input: bad + "\n", limit: 60)
            XCTAssertNotEqual(run.status, 0, "\(bad): \(run.summary)")
            XCTAssertFalse(run.signaled, run.summary)
            XCTAssertEqual(run.stdout, "", "\(bad): no output")
            let token = bad.split(separator: " ").first(where: { Double($0) == nil })!
            XCTAssertTrue(run.stderr.contains(token), "names the token \(token): \(run.stderr)")
        }
    }
}

/// A small seeded generator so the random points are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
