import Foundation
import XCTest

/// `nnverify suite`: the results table, the summary, and the comparison with ground truth.
final class SuiteCLITests: XCTestCase {
    static let header = "onnx,vnnlib,timeout,verdict,time_s"

    /// Three quick bundled instances (one unsat, two sat) and their published verdicts.
    static let instances: [(onnx: String, vnnlib: String, verdict: String)] = [
        ("onnx/tiny_hand_2x2.onnx", "vnnlib/tiny_hand_y0_ge_2.5.vnnlib", "unsat"),
        ("onnx/tiny_hand_2x2.onnx", "vnnlib/tiny_hand_y0_ge_2.vnnlib", "sat"),
        ("onnx/tiny_hand_2x2.onnx", "vnnlib/tiny_hand_or.vnnlib", "sat"),
    ]

    /// Writes instances.csv and a ground-truth results.csv into `dir`; `flip` turns the verdict
    /// of that row into its opposite.
    private func writeFiles(in dir: URL, flip: Int? = nil) throws -> (instances: URL, truth: URL) {
        let list = Self.instances.map { "\($0.onnx),\($0.vnnlib),30\n" }.joined()
        var truth = "onnx,vnnlib,timeout,verdict\n"
        for (i, row) in Self.instances.enumerated() {
            let verdict = i == flip ? (row.verdict == "sat" ? "unsat" : "sat") : row.verdict
            truth += "\(row.onnx),\(row.vnnlib),30,\(verdict)\n"
        }
        let instancesURL = dir.appendingPathComponent("instances.csv"), truthURL = dir.appendingPathComponent("truth.csv")
        try list.write(to: instancesURL, atomically: true, encoding: .utf8)
        try truth.write(to: truthURL, atomically: true, encoding: .utf8)
        return (instancesURL, truthURL)
    }

    /// The rows of a results.csv after its header.
    private func rows(_ url: URL) throws -> (header: String, rows: [[String]]) {
        let lines = try String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
        return (lines.first ?? "", lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
    }

    func testSuiteWritesResultsAndEndsWithASummary() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let files = try writeFiles(in: dir)
        let out = dir.appendingPathComponent("results.csv")
        let run = try CLI.invoke(["suite", files.instances.path, "--root", CLI.bundled.path, "--out", out.path,
                                  "--max-timeout", "20", "--threads", "2"], limit: 300)
        XCTAssertEqual(run.status, 0, run.summary)
        XCTAssertFalse(run.signaled, run.summary)

        let table = try rows(out)
        XCTAssertEqual(table.header, Self.header)
        XCTAssertEqual(table.rows.count, 3, "one row per instance")
        for (row, expected) in zip(table.rows, Self.instances) {
            XCTAssertEqual(row.count, 5, "\(row)")
            guard row.count == 5 else { continue }
            XCTAssertEqual(row[0], expected.onnx, "paths as in the instances file")
            XCTAssertEqual(row[1], expected.vnnlib)
            XCTAssertEqual(Double(row[2]), 20, "timeout capped by --max-timeout: \(row)")
            XCTAssertEqual(row[3], expected.verdict, "\(row)")
            XCTAssertNotNil(Double(row[4]).flatMap { $0 >= 0 ? $0 : nil }, "time_s is a non-negative number: \(row)")
        }

        let last = run.lines.last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? ""
        XCTAssertTrue(last.lowercased().contains("summary"), "stdout ends with a summary line: \(run.stdout)")
        XCTAssertTrue(last.contains("3"), "the summary counts the 3 instances: \(last)")
        XCTAssertTrue(last.contains("sat 2") && last.contains("unsat 1"), "the summary counts verdicts: \(last)")
        XCTAssertFalse(run.stdout.contains("WRONG VERDICT") || run.stderr.contains("WRONG VERDICT"))
    }

    func testSuiteAgreesWithCorrectGroundTruth() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let files = try writeFiles(in: dir)
        let run = try CLI.invoke(["suite", files.instances.path, "--root", CLI.bundled.path, "--out", dir.appendingPathComponent("r.csv").path,
                                  "--ground-truth", files.truth.path, "--max-timeout", "20", "--threads", "2"], limit: 300)
        XCTAssertEqual(run.status, 0, run.summary)
        XCTAssertFalse((run.stdout + run.stderr).contains("WRONG VERDICT"), run.summary)
        XCTAssertTrue(run.stdout.lowercased().contains("summary"), run.stdout)
    }

    func testSuiteFlagsAWrongVerdictLoudlyAndExitsOne() throws {
        let dir = try makeTemporaryDirectory(for: self)
        for flip in [0, 2] { // an unsat published as sat, and a sat published as unsat
            let files = try writeFiles(in: dir, flip: flip)
            let out = dir.appendingPathComponent("results-\(flip).csv")
            let run = try CLI.invoke(["suite", files.instances.path, "--root", CLI.bundled.path, "--out", out.path,
                                      "--ground-truth", files.truth.path, "--max-timeout", "20", "--threads", "2"], limit: 300)
            XCTAssertEqual(run.status, 1, "flipped row \(flip): \(run.summary)")
            XCTAssertFalse(run.signaled)
            XCTAssertTrue((run.stdout + run.stderr).contains("WRONG VERDICT"), "flipped row \(flip): \(run.summary)")
            let flipped = Self.instances[flip].vnnlib
            XCTAssertTrue(run.stdout.split(separator: "\n").contains { $0.contains("WRONG VERDICT") && $0.contains(flipped) },
                          "names the instance \(flipped): \(run.stdout)")
            XCTAssertEqual(try rows(out).rows.count, 3, "every row still written")
        }
    }

    func testSuiteWithAMissingInstancesFileIsAnError() throws {
        let run = try CLI.invoke(["suite", "/nonexistent/instances.csv"], limit: 60)
        XCTAssertNotEqual(run.status, 0, run.summary)
        XCTAssertFalse(run.signaled)
        XCTAssertTrue(run.stderr.contains("/nonexistent/instances.csv"), run.stderr)
    }

    /// The VNN-COMP `test` family (5 instances): zero wrong verdicts against its results.csv.
    func testSharedTestFamilyHasNoWrongVerdicts() throws {
        let family = try CLI.shared().appendingPathComponent("benchmarks/test")
        let dir = try makeTemporaryDirectory(for: self)
        let out = dir.appendingPathComponent("results.csv")
        let run = try CLI.invoke(["suite", family.appendingPathComponent("instances.csv").path, "--out", out.path,
                                  "--ground-truth", family.appendingPathComponent("results.csv").path,
                                  "--max-timeout", "20", "--threads", "2"], limit: 5 * 20 + 200)
        XCTAssertEqual(run.status, 0, run.summary)
        XCTAssertFalse((run.stdout + run.stderr).contains("WRONG VERDICT"), run.summary)
        // Compare on our own as well, from the two files.
        let truth = try CLI.verdicts(in: family.appendingPathComponent("results.csv"))
        let table = try rows(out)
        XCTAssertEqual(table.header, Self.header)
        XCTAssertEqual(table.rows.count, 5)
        var solved = 0
        for row in table.rows where row.count == 5 {
            XCTAssertTrue(VerifyCLITests.verdicts.contains(row[3]), "\(row)")
            guard row[3] == "sat" || row[3] == "unsat" else { continue }
            solved += 1
            XCTAssertEqual(row[3], truth["\(row[0]),\(row[1])"], "WRONG VERDICT \(row)")
        }
        print("test family: \(solved)/5 solved at --max-timeout 20")
    }

    /// `--resume` keeps the rows an interrupted run wrote and runs only the rest: a kept row is
    /// not run again (its made-up `timeout` stays), an `error` row runs again, and a file written
    /// under another limit is refused with its line.
    func testResumeKeepsEarlierRowsAndRunsTheRest() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let files = try writeFiles(in: dir)
        let out = dir.appendingPathComponent("results.csv")
        let i = Self.instances
        // A file a stopped run left empty holds nothing to keep.
        try "".write(to: out, atomically: true, encoding: .utf8)
        let fresh = try CLI.invoke(["suite", files.instances.path, "--root", CLI.bundled.path, "--out", out.path,
                                    "--max-timeout", "20", "--threads", "1", "--resume"], limit: 300)
        XCTAssertEqual(fresh.status, 0, fresh.summary)
        XCTAssertEqual(try rows(out).rows.map { $0[3] }, i.map(\.verdict))
        try """
            \(Self.header)
            \(i[0].onnx),\(i[0].vnnlib),20,timeout,19.5
            \(i[1].onnx),\(i[1].vnnlib),20,error,0.0

            """.write(to: out, atomically: true, encoding: .utf8)
        let run = try CLI.invoke(["suite", files.instances.path, "--root", CLI.bundled.path, "--out", out.path,
                                  "--max-timeout", "20", "--threads", "1", "--resume"], limit: 300)
        XCTAssertEqual(run.status, 0, run.summary)
        let table = try rows(out)
        XCTAssertEqual(table.header, Self.header)
        XCTAssertEqual(table.rows.map { $0[0] + " " + $0[1] }, i.map { $0.onnx + " " + $0.vnnlib },
                       "one row per instance, in the list's order: \(table.rows)")
        XCTAssertEqual(table.rows.map { $0[3] }, ["timeout", "sat", "sat"], "the kept row is not run again; the error row is")
        XCTAssertEqual(table.rows.first?[4], "19.500", "the kept row keeps its time")
        XCTAssertTrue(run.stdout.contains("timeout 1"), "the summary counts the kept row: \(run.stdout)")
        XCTAssertTrue(run.stderr.contains("from the earlier run"), run.stderr)

        // Resuming a complete file runs nothing and changes nothing.
        let before = try String(contentsOf: out, encoding: .utf8)
        let again = try CLI.invoke(["suite", files.instances.path, "--root", CLI.bundled.path, "--out", out.path,
                                    "--max-timeout", "20", "--resume"], limit: 300)
        XCTAssertEqual(again.status, 0, again.summary)
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), before)

        // Under another limit the rows are not this run's.
        let refused = try CLI.invoke(["suite", files.instances.path, "--root", CLI.bundled.path, "--out", out.path,
                                      "--max-timeout", "10", "--resume"], limit: 300)
        XCTAssertNotEqual(refused.status, 0, refused.summary)
        XCTAssertTrue(refused.stderr.contains("results.csv:2"), "names the file and line: \(refused.stderr)")
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), before, "a refused resume leaves the file alone")
    }
}
