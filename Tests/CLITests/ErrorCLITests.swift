import Foundation
import XCTest

/// Bad input files and arguments: a non-zero exit, an explanation on stderr naming the file
/// (and line:column for VNNLIB), nothing on stdout, and never a crash or a hang.
final class ErrorCLITests: XCTestCase {
    let network = CLI.bundledPath("onnx/tiny_hand_2x2.onnx")
    let property = CLI.bundledPath("vnnlib/tiny_hand_or.vnnlib")

    /// The common shape of every error.
    /// `inspect NET PROP` prints the network's summary before it reads the property, so a bad
    /// property leaves that on stdout: `quietStdout: false` allows it there (a verdict never).
    private func assertCleanError(_ run: Invocation, naming needle: String, _ what: String, quietStdout: Bool = true,
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(run.timedOut, "\(what): hangs; \(run.summary)", file: file, line: line)
        XCTAssertFalse(run.signaled, "\(what): killed by a signal (crash or trap); \(run.summary)", file: file, line: line)
        XCTAssertNotEqual(run.status, 0, "\(what): must exit non-zero; \(run.summary)", file: file, line: line)
        XCTAssertLessThan(run.status, 128, "\(what): exit status looks like a signal; \(run.summary)", file: file, line: line)
        if quietStdout {
            XCTAssertEqual(run.stdout, "", "\(what): nothing on stdout (no verdict); \(run.summary)", file: file, line: line)
        } else {
            XCTAssertFalse(run.stdout.contains("property:"), "\(what): no property summary for a bad property; \(run.summary)", file: file, line: line)
        }
        XCTAssertTrue(run.stderr.contains(needle), "\(what): stderr must name \(needle); \(run.summary)", file: file, line: line)
    }

    /// Whether `text` holds `line:column` right after `path`, or `line N` and `column M`.
    private func hasLocation(_ text: String, after path: String) -> Bool {
        if let range = text.range(of: path + ":") {
            let rest = text[range.upperBound...]
            let line = rest.prefix(while: \.isNumber)
            if !line.isEmpty, rest.dropFirst(line.count).first == ":",
               rest.dropFirst(line.count + 1).first?.isNumber == true { return true }
        }
        let lower = text.lowercased()
        return lower.contains("line ") && lower.contains("column ")
    }

    func testMissingNetworkFile() throws {
        let missing = "/nonexistent/dir/no_such_network.onnx"
        for arguments in [["verify", missing, property], ["inspect", missing], ["eval", missing]] {
            let run = try CLI.invoke(arguments, input: "0 0\n", limit: 60)
            assertCleanError(run, naming: "no_such_network.onnx", arguments[0])
        }
    }

    func testMissingPropertyFile() throws {
        let missing = "/nonexistent/dir/no_such_property.vnnlib"
        for arguments in [["verify", network, missing], ["inspect", network, missing]] {
            let run = try CLI.invoke(arguments, limit: 60)
            assertCleanError(run, naming: "no_such_property.vnnlib", arguments[0], quietStdout: arguments[0] != "inspect")
        }
    }

    func testTruncatedONNX() throws {
        let dir = try makeTemporaryDirectory(for: self)
        for name in ["digits_16x16", "digits_conv4", "tiny_hand_2x2"] {
            let whole = try Data(contentsOf: URL(fileURLWithPath: CLI.bundledPath("onnx/\(name).onnx")))
            let truncated = dir.appendingPathComponent("\(name)_truncated.onnx")
            try whole.prefix(whole.count / 2).write(to: truncated)
            let vnnlib = name == "tiny_hand_2x2" ? property : CLI.bundledPath("vnnlib/digits_16x16_img2_eps0.08.vnnlib")
            for arguments in [["verify", truncated.path, vnnlib, "--timeout", "5"], ["inspect", truncated.path], ["eval", truncated.path]] {
                let run = try CLI.invoke(arguments, input: "0 0\n", limit: 60)
                assertCleanError(run, naming: truncated.lastPathComponent, "\(arguments[0]) of half of \(name).onnx")
            }
        }
    }

    func testFileThatIsNotONNX() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let text = dir.appendingPathComponent("actually_text.onnx")
        try Data("this is not a protobuf\n".utf8).write(to: text)
        let empty = dir.appendingPathComponent("empty.onnx")
        try Data().write(to: empty)
        for file in [text, empty] {
            let run = try CLI.invoke(["verify", file.path, property, "--timeout", "5"], limit: 60)
            assertCleanError(run, naming: file.lastPathComponent, "verify with \(file.lastPathComponent)")
        }
    }

    func testGarbledVNNLIBNamesFileLineAndColumn() throws {
        let dir = try makeTemporaryDirectory(for: self)
        let original = try String(contentsOfFile: property, encoding: .utf8)
        let cases: [(name: String, text: String)] = [
            // A closing parenthesis missing in the middle of the file.
            ("missing_paren.vnnlib", original.replacingOccurrences(of: "(assert (<= X_0 1.0))", with: "(assert (<= X_0 1.0)")),
            // The last closing parenthesis missing (unterminated at the end of the file).
            ("unterminated.vnnlib", String(original.trimmingCharacters(in: .whitespacesAndNewlines).dropLast()) + "\n"),
            // A word where a number belongs.
            ("bad_number.vnnlib", original.replacingOccurrences(of: "(assert (>= X_1 -1.0))", with: "(assert (>= X_1 minus_one))")),
            // An extra closing parenthesis.
            ("extra_paren.vnnlib", original.replacingOccurrences(of: "(assert (<= X_1 1.0))", with: "(assert (<= X_1 1.0)))")),
        ]
        for c in cases {
            XCTAssertNotEqual(c.text, original, "\(c.name): the edit must change the file")
            let file = dir.appendingPathComponent(c.name)
            try c.text.write(to: file, atomically: true, encoding: .utf8)
            for arguments in [["verify", network, file.path, "--timeout", "5"], ["inspect", network, file.path]] {
                let run = try CLI.invoke(arguments, limit: 60)
                assertCleanError(run, naming: c.name, "\(arguments[0]) \(c.name)", quietStdout: arguments[0] != "inspect")
                XCTAssertTrue(hasLocation(run.stderr, after: file.path) || hasLocation(run.stderr, after: c.name),
                              "\(c.name): stderr must give line:column; \(run.stderr)")
            }
        }
    }

    func testPropertyForADifferentNetworkIsAClearError() throws {
        // A 5-input, 5-output property on the 2-input, 2-output network.
        let lowdim = CLI.bundledPath("vnnlib/lowdim_b1_y0_ge_1.1.vnnlib")
        let run = try CLI.invoke(["verify", network, lowdim, "--timeout", "5"], limit: 60)
        assertCleanError(run, naming: "lowdim_b1_y0_ge_1.1.vnnlib", "mismatched dimensions")
        XCTAssertTrue(run.stderr.contains("5") && run.stderr.contains("2"), "states both sizes: \(run.stderr)")

        // 64 inputs on the 5-input network: the same.
        let digits = CLI.bundledPath("vnnlib/digits_16x16_img2_eps0.08.vnnlib")
        let other = try CLI.invoke(["verify", CLI.bundledPath("onnx/lowdim_5x12x12x12x5.onnx"), digits, "--timeout", "5"], limit: 60)
        assertCleanError(other, naming: "digits_16x16_img2_eps0.08.vnnlib", "mismatched dimensions")
        XCTAssertTrue(other.stderr.contains("64"), other.stderr)
    }

    func testMissingArgumentsAndUnknownCommandsAreUsageErrors() throws {
        for arguments in [["verify"], ["verify", network], ["eval"], ["frobnicate"], ["verify", network, property, "--no-such-flag"]] {
            let run = try CLI.invoke(arguments, limit: 60)
            XCTAssertNotEqual(run.status, 0, "\(arguments): \(run.summary)")
            XCTAssertFalse(run.signaled, run.summary)
            XCTAssertEqual(run.stdout, "", "\(arguments): usage goes to stderr")
            XCTAssertFalse(run.stderr.isEmpty, "\(arguments)")
        }
    }

    func testCompressAndStabilityHaveHelp() throws {
        for command in ["compress", "stability"] {
            let run = try CLI.invoke([command, "--help"], limit: 60)
            XCTAssertEqual(run.status, 0, "\(command) --help: \(run.summary)")
            XCTAssertFalse(run.signaled)
            XCTAssertTrue((run.stdout + run.stderr).contains(command), "\(command) --help describes it")
        }
    }

    func testTopLevelHelpListsTheSubcommands() throws {
        let run = try CLI.invoke(["--help"], limit: 60)
        XCTAssertEqual(run.status, 0, run.summary)
        for command in ["inspect", "eval", "verify", "suite", "compress", "stability"] {
            XCTAssertTrue(run.stdout.contains(command), "--help lists \(command): \(run.stdout)")
        }
    }
}
