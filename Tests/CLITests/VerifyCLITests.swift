import Foundation
import XCTest

/// `nnverify verify` on the bundled suite: the output contract, counterexamples re-checked
/// independently, result and statistics files, time limits.
final class VerifyCLITests: XCTestCase {
    static let verdicts: Set<String> = ["sat", "unsat", "unknown", "timeout"]

    /// Per-instance limit for the sweep over the whole bundled suite (seconds); the debug build
    /// is slow, so this is shorter than the suite's own timeouts. `CLI_VERIFY_TIMEOUT` overrides.
    static let sweepTimeout = CLI.setting("CLI_VERIFY_TIMEOUT", 20)

    private func verify(_ onnx: String, _ vnnlib: String, timeout: Double, extra: [String] = []) throws -> Invocation {
        try CLI.invoke(["verify", CLI.bundledPath(onnx), CLI.bundledPath(vnnlib), "--timeout", "\(timeout)", "--threads", "2"] + extra,
                       limit: timeout + 120)
    }

    /// Checks the output contract; returns the verdict (line 1) or nil after a failure.
    @discardableResult
    private func checkContract(_ run: Invocation, _ what: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        XCTAssertEqual(run.status, 0, "\(what): exit status 0 for every verdict; \(run.summary)", file: file, line: line)
        XCTAssertFalse(run.signaled, "\(what): \(run.summary)", file: file, line: line)
        guard let first = run.lines.first, Self.verdicts.contains(first) else {
            XCTFail("\(what): stdout line 1 must be exactly sat/unsat/unknown/timeout; \(run.summary)", file: file, line: line)
            return nil
        }
        if first != "sat" {
            XCTAssertEqual(run.lines.count, 1, "\(what): nothing after \(first) on stdout; \(run.summary)", file: file, line: line)
        }
        return first
    }

    /// Re-checks a `sat` answer: every X inside the property's box, every Y equal to
    /// `nnverify eval` of X, and (when python3 with onnxruntime is there) the independent
    /// checker script on the result file.
    private func checkCounterexample(_ run: Invocation, onnx: String, vnnlib: String, resultFile: URL? = nil,
                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let what = "\(onnx) \(vnnlib)"
        let cex: ParsedCounterexample
        do { cex = try ParsedCounterexample(run.stdout) } catch {
            return XCTFail("\(what): unreadable counterexample: \(error); \(run.summary)", file: file, line: line)
        }
        let hull = try inputHull(ofProperty: CLI.bundledPath(vnnlib))
        XCTAssertEqual(cex.x.count, hull.lower.count, "\(what): one X per input", file: file, line: line)
        for (i, v) in cex.x.enumerated() where i < hull.lower.count {
            XCTAssertTrue(v >= hull.lower[i] - 1e-6 && v <= hull.upper[i] + 1e-6,
                          "\(what): X_\(i) = \(v) outside [\(hull.lower[i]), \(hull.upper[i])]", file: file, line: line)
        }
        guard let y = try evaluate(CLI.bundledPath(onnx), at: cex.x, file: file, line: line) else { return }
        XCTAssertEqual(cex.y.count, y.count, "\(what): one Y per output", file: file, line: line)
        for (j, (printed, computed)) in zip(cex.y, y).enumerated() {
            XCTAssertEqual(printed, computed, accuracy: 1e-9 * max(1, abs(computed)),
                           "\(what): Y_\(j) printed \(printed), eval of X gives \(computed)", file: file, line: line)
        }
        if let resultFile, pythonWithONNXRuntime {
            let check = try runCounterexampleChecker([CLI.bundledPath(onnx), CLI.bundledPath(vnnlib), resultFile.path])
            XCTAssertEqual(check.status, 0, "\(what): check_counterexample.py (onnxruntime) rejects it: \(check.output)", file: file, line: line)
        }
    }

    func testTinyHandInstancesGiveTheirKnownVerdicts() throws {
        let truth = try CLI.verdicts(in: CLI.bundled.appendingPathComponent("results.csv"))
        for instance in try CLI.bundledInstances() where instance.onnx.contains("tiny_hand") {
            let run = try verify(instance.onnx, instance.vnnlib, timeout: 20)
            let verdict = checkContract(run, instance.vnnlib)
            XCTAssertEqual(verdict, truth["\(instance.onnx),\(instance.vnnlib)"], "\(instance.vnnlib): \(run.summary)")
        }
    }

    func testSatCounterexampleLiesInTheBoxAndMatchesEval() throws {
        let dir = try makeTemporaryDirectory(for: self)
        for vnnlib in ["vnnlib/tiny_hand_y0_ge_2.vnnlib", "vnnlib/tiny_hand_or.vnnlib"] {
            let result = dir.appendingPathComponent(URL(fileURLWithPath: vnnlib).lastPathComponent + ".result")
            let run = try verify("onnx/tiny_hand_2x2.onnx", vnnlib, timeout: 20, extra: ["--result-file", result.path])
            XCTAssertEqual(checkContract(run, vnnlib), "sat", run.summary)
            guard run.lines.first == "sat" else { continue }
            XCTAssertTrue(run.lines.contains { $0.contains("X_0") } && run.lines.contains { $0.contains("Y_1") }, run.stdout)
            try checkCounterexample(run, onnx: "onnx/tiny_hand_2x2.onnx", vnnlib: vnnlib, resultFile: result)
            // The hand-made network's own check: tiny_hand_y0_ge_2 needs Y_0 >= 2 and Y_1 <= 0;
            // tiny_hand_or can only hold through Y_1 >= 1.4.
            if let cex = try? ParsedCounterexample(run.stdout), cex.y.count == 2 {
                if vnnlib.contains("y0_ge_2") { XCTAssertTrue(cex.y[0] >= 2 && cex.y[1] <= 0, run.stdout) }
                else { XCTAssertTrue(cex.y[1] >= 1.4, run.stdout) }
            }
        }
    }

    func testCounterexampleOfALowDimensionalNetworkWithTwoBoxesAndConjunctions() throws {
        let dir = try makeTemporaryDirectory(for: self)
        for vnnlib in ["vnnlib/lowdim_b1_y0_ge_1.1.vnnlib", "vnnlib/lowdim_b2_y0_minimal.vnnlib"] {
            let result = dir.appendingPathComponent("lowdim.result")
            let run = try verify("onnx/lowdim_5x12x12x12x5.onnx", vnnlib, timeout: Self.sweepTimeout, extra: ["--result-file", result.path])
            let verdict = checkContract(run, vnnlib)
            XCTAssertNotEqual(verdict, "unsat", "\(vnnlib) is sat (README): \(run.summary)")
            if verdict == "sat" {
                try checkCounterexample(run, onnx: "onnx/lowdim_5x12x12x12x5.onnx", vnnlib: vnnlib, resultFile: result)
            }
        }
    }

    /// VNN-COMP repositories ship `.onnx.gz` and `.vnnlib.gz`: they verify as they are, and a
    /// path naming the decompressed file is read from its `.gz` beside it.
    func testGzipCompressedInstancesGiveTheSameVerdicts() throws {
        guard let gzip = ["/usr/bin/gzip", "/bin/gzip"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("no gzip executable to make the compressed files with")
        }
        let dir = try makeTemporaryDirectory(for: self)
        let files = ["onnx/tiny_hand_2x2.onnx", "vnnlib/tiny_hand_or.vnnlib", "vnnlib/tiny_hand_y0_ge_2.5.vnnlib"]
        for file in files {
            let copy = dir.appendingPathComponent(URL(fileURLWithPath: file).lastPathComponent)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: CLI.bundledPath(file)), to: copy)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: gzip)
            process.arguments = [copy.path]
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0)
            XCTAssertFalse(FileManager.default.fileExists(atPath: copy.path))
        }
        let network = dir.appendingPathComponent("tiny_hand_2x2.onnx").path
        for property in ["tiny_hand_or.vnnlib", "tiny_hand_y0_ge_2.5.vnnlib"] {
            let plain = try verify("onnx/tiny_hand_2x2.onnx", "vnnlib/\(property)", timeout: 20)
            let expected = checkContract(plain, property)
            let target = dir.appendingPathComponent(property).path
            for (onnx, vnnlib) in [(network + ".gz", target + ".gz"), (network, target)] {
                let run = try CLI.invoke(["verify", onnx, vnnlib, "--timeout", "20", "--threads", "2"], limit: 140)
                XCTAssertEqual(checkContract(run, "\(onnx) \(vnnlib)"), expected, run.summary)
            }
        }
    }

    func testResultFileGetsTheSameTextAsStdout() throws {
        let dir = try makeTemporaryDirectory(for: self)
        for vnnlib in ["vnnlib/tiny_hand_or.vnnlib", "vnnlib/tiny_hand_y0_ge_2.5.vnnlib"] {
            let result = dir.appendingPathComponent("out.txt")
            let run = try verify("onnx/tiny_hand_2x2.onnx", vnnlib, timeout: 20, extra: ["--result-file", result.path])
            checkContract(run, vnnlib)
            let written = try String(contentsOf: result, encoding: .utf8)
            XCTAssertEqual(written, run.stdout, "\(vnnlib): --result-file must hold stdout's text")
        }
    }

    func testStatsJSONIsValidJSONWithSearchCounters() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let stats = dir.appendingPathComponent("stats.json")
        let run = try verify("onnx/lowdim_5x12x12x12x5.onnx", "vnnlib/lowdim_b1_y0_ge_1.2.vnnlib", timeout: 10, extra: ["--stats-json", stats.path])
        checkContract(run, "stats run")
        let data = try Data(contentsOf: stats)
        let object = try JSONSerialization.jsonObject(with: data)
        guard let dictionary = object as? [String: Any] else { return XCTFail("stats JSON is not an object: \(String(decoding: data, as: UTF8.self))") }
        XCTAssertFalse(dictionary.isEmpty)
        // The counters may sit at the top level or in a group (e.g. {"search": {...}}).
        func number(_ key: String, in object: Any) -> NSNumber? {
            guard let d = object as? [String: Any] else { return nil }
            if let n = d[key] as? NSNumber { return n }
            return d.values.lazy.compactMap { number(key, in: $0) }.first
        }
        for key in ["nodes", "conflicts", "decisions"] {
            XCTAssertNotNil(number(key, in: dictionary), "stats JSON has a numeric \(key): \(String(decoding: data, as: UTF8.self))")
        }
    }

    func testTimeoutAcceptsDecimalsAndIsKept() throws {
        // A 64-input, 72-ReLU network: 0.5 s is not enough to be sure of anything, but any
        // verdict is fine; what matters is that 0.5 parses and the run stops soon after.
        let run = try verify("onnx/digits_24x24x24.onnx", "vnnlib/digits_24x24x24_img3_eps0.03.vnnlib", timeout: 0.5)
        let verdict = checkContract(run, "--timeout 0.5")
        XCTAssertNotEqual(verdict, "sat", "digits_24x24x24_img3_eps0.03 is unsat")
        XCTAssertLessThan(run.seconds, 10, "--timeout 0.5 should stop within a few seconds (took \(run.seconds) s)")
    }

    func testNonPositiveOrNonNumericTimeoutIsAUsageError() throws {
        for bad in ["0", "-1", "abc", "nan"] {
            let run = try CLI.invoke(["verify", CLI.bundledPath("onnx/tiny_hand_2x2.onnx"), CLI.bundledPath("vnnlib/tiny_hand_or.vnnlib"), "--timeout", bad], limit: 60)
            XCTAssertNotEqual(run.status, 0, "--timeout \(bad): \(run.summary)")
            XCTAssertFalse(run.signaled, run.summary)
            XCTAssertEqual(run.stdout, "", "--timeout \(bad): no verdict printed")
            XCTAssertFalse(run.stderr.isEmpty)
        }
    }

    /// Every bundled instance: the output contract holds, no answer contradicts the published
    /// verdict, and every `sat` comes with a counterexample that re-checks.
    func testEveryBundledInstanceKeepsTheContractAndNeverContradictsTheTruth() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let truth = try CLI.verdicts(in: CLI.bundled.appendingPathComponent("results.csv"))
        var tally: [String: Int] = [:]
        for instance in try CLI.bundledInstances() {
            let result = dir.appendingPathComponent("result.txt")
            try? FileManager.default.removeItem(at: result)
            let timeout = min(instance.timeout, Self.sweepTimeout)
            let run = try verify(instance.onnx, instance.vnnlib, timeout: timeout, extra: ["--result-file", result.path])
            guard let verdict = checkContract(run, instance.vnnlib) else { continue }
            tally[verdict, default: 0] += 1
            let published = truth["\(instance.onnx),\(instance.vnnlib)"]
            if verdict == "sat" || verdict == "unsat" {
                XCTAssertEqual(verdict, published, "WRONG VERDICT on \(instance.vnnlib): \(run.summary)")
            }
            XCTAssertEqual(try? String(contentsOf: result, encoding: .utf8), run.stdout, "\(instance.vnnlib): result file")
            if verdict == "sat" {
                try checkCounterexample(run, onnx: instance.onnx, vnnlib: instance.vnnlib, resultFile: result)
            }
        }
        print("bundled suite at \(Self.sweepTimeout) s per instance: \(tally.sorted { $0.key < $1.key })")
    }
}
