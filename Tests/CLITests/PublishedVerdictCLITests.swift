import Foundation
import XCTest

/// Samples of the VNN-COMP families with published verdicts, run through `nnverify suite` with
/// short time limits: any answer that contradicts a published verdict fails the test.
final class PublishedVerdictCLITests: XCTestCase {
    /// Runs every `every`-th instance of `family` (a deterministic sample) and checks the answers
    /// both through `--ground-truth` and independently from the two CSV files.
    private func checkSample(of family: String, every: Int, maxTimeout: Int, minimumSolved: Int) throws {
        let root = try CLI.shared().appendingPathComponent("benchmarks/\(family)")
        let dir = try makeTemporaryDirectory(for: self)
        let all = try String(contentsOf: root.appendingPathComponent("instances.csv"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).filter { !$0.isEmpty }
        let sample = all.enumerated().filter { $0.offset % every == 0 }.map { String($0.element) }
        let list = dir.appendingPathComponent("instances.csv")
        try (sample.joined(separator: "\n") + "\n").write(to: list, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("results.csv")
        let truthFile = root.appendingPathComponent("results.csv")
        let run = try CLI.invoke(["suite", list.path, "--root", root.path, "--out", out.path,
                                  "--ground-truth", truthFile.path, "--max-timeout", String(maxTimeout), "--threads", "2"],
                                 limit: Double(sample.count * (maxTimeout + 10) + 120))
        XCTAssertFalse(run.signaled, run.summary)
        XCTAssertEqual(run.status, 0, run.summary)
        XCTAssertFalse((run.stdout + run.stderr).contains("WRONG VERDICT"), run.summary)

        let truth = try CLI.verdicts(in: truthFile)
        var solved = 0, compared = 0
        for line in try String(contentsOf: out, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst() {
            let row = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard row.count == 5, row[3] == "sat" || row[3] == "unsat" else { continue }
            solved += 1
            guard let published = truth["\(row[0]),\(row[1])"], published == "sat" || published == "unsat" else { continue }
            compared += 1
            XCTAssertEqual(row[3], published, "WRONG VERDICT \(row)")
        }
        print("\(family) sample: \(solved)/\(sample.count) solved at --max-timeout \(maxTimeout), \(compared) compared")
        XCTAssertGreaterThanOrEqual(solved, minimumSolved, "far fewer instances solved than usual: \(run.summary)")
    }

    func testACASXuSampleHasNoWrongVerdicts() throws {
        // 16 instances covering properties 1-4 on several networks plus prop_5.
        try checkSample(of: "acasxu", every: 12, maxTimeout: 20, minimumSolved: 8)
    }

    func testMNISTFCSampleHasNoWrongVerdicts() throws {
        try checkSample(of: "mnistfc", every: 15, maxTimeout: 15, minimumSolved: 1)
    }
}
