import Foundation
import XCTest

/// `--progress` on the commands that can run for minutes (`verify`, `suite`, `stability`,
/// `compress`): lines on stderr while they run, stdout unchanged; `--no-progress` (and, by
/// default, a stderr that is not a terminal) shows none.
final class ProgressCLITests: XCTestCase {
    /// Progress lines start with the elapsed seconds: `    12 s  …`.
    private func progressLines(_ run: Invocation) -> [Substring] {
        run.stderr.split(separator: "\n").filter { $0.range(of: #"^ *\d+ s  "#, options: .regularExpression) != nil }
    }

    private func invoke(_ arguments: [String]) throws -> Invocation {
        setenv("NNVERIFY_PROGRESS_INTERVAL", "0.25", 1)
        defer { unsetenv("NNVERIFY_PROGRESS_INTERVAL") }
        return try CLI.invoke(arguments, limit: 120)
    }

    func testVerifyShowsStageConjunctionsAndSearchWork() throws {
        let family = try CLI.shared().appendingPathComponent("benchmarks/mnistfc")
        let arguments = ["verify", family.appendingPathComponent("onnx/mnist-net_256x4.onnx").path,
                         family.appendingPathComponent("vnnlib/prop_10_0.05.vnnlib").path, "--timeout", "4", "--threads", "1"]
        let shown = try invoke(arguments + ["--progress"])
        XCTAssertEqual(shown.status, 0, shown.summary)
        XCTAssertTrue(["sat", "unsat", "unknown", "timeout"].contains(shown.lines.first ?? ""), shown.summary)
        let lines = progressLines(shown)
        XCTAssertGreaterThanOrEqual(lines.count, 4, shown.summary)
        XCTAssertTrue(lines.contains { $0.contains("searching problem") && $0.contains("conjunctions refuted") && $0.contains("nodes") },
                      shown.summary)
        XCTAssertFalse(shown.stdout.contains(" s  "), "progress must not reach stdout: \(shown.summary)")
        let hidden = try invoke(arguments + ["--no-progress"])
        XCTAssertEqual(hidden.status, 0, hidden.summary)
        XCTAssertTrue(progressLines(hidden).isEmpty, hidden.summary)
        let piped = try invoke(arguments)
        XCTAssertTrue(progressLines(piped).isEmpty, "stderr is a pipe here: no lines by default; \(piped.summary)")
    }

    func testSuiteShowsTheRunningInstanceOnlyWhenAsked() throws {
        let family = try CLI.shared().appendingPathComponent("benchmarks/mnistfc")
        let list = FileManager.default.temporaryDirectory.appendingPathComponent("progress-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: list) }
        try "onnx/mnist-net_256x4.onnx,vnnlib/prop_10_0.05.vnnlib,300\n".write(to: list, atomically: true, encoding: .utf8)
        let arguments = ["suite", list.path, "--root", family.path, "--max-timeout", "3", "--threads", "1"]
        let live = { (run: Invocation) in run.stderr.split(separator: "\n").filter { $0.hasPrefix("[1/1] prop_10_0.05.vnnlib, ") } }
        let shown = try invoke(arguments + ["--progress"])
        XCTAssertEqual(shown.status, 0, shown.summary)
        XCTAssertGreaterThanOrEqual(live(shown).count, 3, shown.summary)
        XCTAssertTrue(live(shown).contains { $0.contains("conjunctions refuted") }, shown.summary)
        XCTAssertTrue(shown.stderr.contains("[1/1] onnx/mnist-net_256x4.onnx vnnlib/prop_10_0.05.vnnlib: "), shown.summary)
        XCTAssertEqual(shown.lines.first, "onnx,vnnlib,timeout,verdict,time_s", shown.summary)
        let plain = try invoke(arguments)
        XCTAssertTrue(live(plain).isEmpty, plain.summary)
        XCTAssertTrue(plain.stderr.contains("[1/1] onnx/mnist-net_256x4.onnx vnnlib/prop_10_0.05.vnnlib: "), plain.summary)
    }

    func testStabilityAndCompressShowTheDetectorsStepAndCounts() throws {
        let network = CLI.repository.appendingPathComponent("benchmarks/compression/digits_fc_5x100_l1_1e-4.onnx").path
        let stability = try invoke(["stability", network, "--box", "0,1", "--mode", "exact", "--timeout", "3", "--threads", "1", "--progress"])
        XCTAssertEqual(stability.status, 0, stability.summary)
        XCTAssertTrue(stability.stdout.hasPrefix("layer  neurons"), stability.summary)
        let lines = progressLines(stability)
        XCTAssertFalse(lines.isEmpty, stability.summary)
        XCTAssertTrue(lines.allSatisfy { $0.contains("classifying: ") && $0.contains(" active, ") && $0.contains(" undecided") },
                      stability.summary)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("progress-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: output) }
        let compress = try invoke(["compress", network, "--box", "0,1", "-o", output.path, "--timeout", "2", "--threads", "1",
                                   "--samples", "100", "--progress"])
        XCTAssertEqual(compress.status, 0, compress.summary)
        XCTAssertTrue(progressLines(compress).contains { $0.contains("classifying: ") }, compress.summary)
    }
}
