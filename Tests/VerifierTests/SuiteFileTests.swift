import Foundation
import XCTest
@testable import Verifier

/// The suite runner's own files: VNN-COMP publishes them with LF and with CRLF line ends.
final class SuiteFileTests: XCTestCase {
    func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nnverify-suite-\(UUID().uuidString).csv")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testGroundTruthReadsCRLFFiles() throws {
        let path = try write("onnx,vnnlib,timeout,verdict,extra\r\nonnx/a.onnx,vnnlib/p.vnnlib,60,unsat,x\r\nb.onnx,q.vnnlib,60,sat,\r\n")
        let truth = try GroundTruth(contentsOf: path)
        XCTAssertEqual(truth.count, 2)
        XCTAssertEqual(truth.verdict(onnx: "some/dir/a.onnx", vnnlib: "p.vnnlib"), "unsat")
        XCTAssertEqual(truth.verdict(onnx: "b.onnx", vnnlib: "other/q.vnnlib"), "sat")
        XCTAssertNil(truth.verdict(onnx: "a.onnx", vnnlib: "q.vnnlib"))
    }

    func testInstancesReadCRLFAndLFAlike() throws {
        let lf = try SuiteInstance.load(contentsOf: write("a.onnx,p.vnnlib,60\nb.onnx,q.vnnlib,116.5\n"))
        let crlf = try SuiteInstance.load(contentsOf: write("a.onnx,p.vnnlib,60\r\nb.onnx,q.vnnlib,116.5\r\n"))
        XCTAssertEqual(lf, crlf)
        XCTAssertEqual(lf, [SuiteInstance(onnx: "a.onnx", vnnlib: "p.vnnlib", timeout: 60),
                            SuiteInstance(onnx: "b.onnx", vnnlib: "q.vnnlib", timeout: 116.5)])
    }

    func testMalformedInstanceLineNamesTheLine() throws {
        let path = try write("a.onnx,p.vnnlib,60\nb.onnx,q.vnnlib,soon\n")
        XCTAssertThrowsError(try SuiteInstance.load(contentsOf: path)) { error in
            XCTAssertTrue("\(error)".contains(":2:"), "\(error)")
        }
    }

    func testSummaryFlagsContradictionsOnly() {
        func outcome(_ verdict: String, _ published: String?) -> SuiteOutcome {
            SuiteOutcome(instance: SuiteInstance(onnx: "n.onnx", vnnlib: "p.vnnlib", timeout: 1), verdict: verdict,
                         seconds: 1, timeout: 1, message: nil, published: published)
        }
        let summary = SuiteSummary([outcome("sat", "unsat"), outcome("unsat", "unsat"), outcome("timeout", "sat"),
                                    outcome("sat", "unknown"), outcome("unsat", nil)])
        XCTAssertEqual(summary.wrong.count, 1)
        XCTAssertEqual(summary.agreeing, 1)
        XCTAssertEqual(summary.unlisted, 1)
        XCTAssertEqual(summary.solved, 4)
    }
}
