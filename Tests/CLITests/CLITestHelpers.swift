import Foundation
import XCTest

/// One run of `nnverify` with how it ended (a signal, a time limit) as well as its output.
struct Invocation {
    var status: Int32
    /// The process was ended by a signal (a trap or crash), not by `exit`.
    var signaled: Bool
    /// The process ran past the limit and was killed.
    var timedOut: Bool
    var stdout: String
    var stderr: String
    var seconds: Double

    /// stdout's lines, without the trailing empty one.
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastIfEmpty() }

    /// A short account for failure messages.
    var summary: String { "exit \(status)\(signaled ? " (signal)" : "")\(timedOut ? " (timed out)" : ""), stdout: \(stdout.prefix(600).debugDescription), stderr: \(stderr.prefix(600).debugDescription)" }
}

private extension Array where Element == String {
    func dropLastIfEmpty() -> [String] { last == "" ? Array(dropLast()) : self }
}

/// Set once, before the first write to a child's stdin.
private let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN); return () }()

/// Collects one pipe's bytes on a background queue (so a full stderr pipe cannot block stdout).
private final class PipeReader: @unchecked Sendable {
    private(set) var data = Data()
    private let group = DispatchGroup()

    init(_ handle: FileHandle) {
        group.enter()
        DispatchQueue.global().async {
            self.data = handle.readDataToEndOfFile()
            self.group.leave()
        }
    }

    func wait() -> Data {
        group.wait()
        return data
    }
}

extension CLI {
    /// Runs `nnverify` and reports whether it died from a signal,
    /// and kills it after `limit` seconds so a hang fails the test instead of stalling the suite.
    static func invoke(_ arguments: [String], input: String = "", limit: Double = 300) throws -> Invocation {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inp
        let start = Date()
        try process.run()
        let stdoutReader = PipeReader(out.fileHandleForReading)
        let stderrReader = PipeReader(err.fileHandleForReading)
        // The tool may exit (an error) before it reads stdin: with SIGPIPE ignored, writing to
        // the closed pipe fails with EPIPE here instead of killing the test runner.
        _ = ignoreSIGPIPE
        try? inp.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        try? inp.fileHandleForWriting.close()
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(start) > limit {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        let stdout = stdoutReader.wait(), stderr = stderrReader.wait()
        return Invocation(
            status: process.terminationStatus,
            signaled: process.terminationReason == .uncaughtSignal,
            timedOut: timedOut,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self),
            seconds: Date().timeIntervalSince(start))
    }

    /// The bundled suite's folder.
    static var bundled: URL { repository.appendingPathComponent("benchmarks/vnnlib") }

    /// A path inside the bundled suite, e.g. `bundledPath("onnx/tiny_hand_2x2.onnx")`.
    static func bundledPath(_ relative: String) -> String { bundled.appendingPathComponent(relative).path }

    /// The bundled instances: (onnx, vnnlib, timeout) relative to ``bundled``.
    static func bundledInstances() throws -> [(onnx: String, vnnlib: String, timeout: Double)] {
        try String(contentsOf: bundled.appendingPathComponent("instances.csv"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).compactMap { line in
                let f = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard f.count >= 3, let t = Double(f[2]) else { return nil }
                return (f[0], f[1], t)
            }
    }

    /// Published verdicts of a results.csv, keyed by "onnx,vnnlib" (columns 1, 2 and 4).
    static func verdicts(in resultsCSV: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        for line in try String(contentsOf: resultsCSV, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if f.count >= 4 { out["\(f[0]),\(f[1])"] = f[3] }
        }
        return out
    }

    /// Environment variable as a Double (for tunable time limits), or `fallback`.
    static func setting(_ name: String, _ fallback: Double) -> Double {
        ProcessInfo.processInfo.environment[name].flatMap(Double.init) ?? fallback
    }
}

/// A fresh temporary folder, removed when the test ends.
func makeTemporaryDirectory(for test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("nnverify-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// The counterexample after a `sat` line: `((X_0 v)` … `(Y_m v))` or with the outer parentheses
/// on lines of their own. Parsed here independently of the tool's own reader.
struct ParsedCounterexample {
    var x: [Double]
    var y: [Double]

    /// Parses `text` (a whole `verify` stdout or result file); throws with the offending line.
    init(_ text: String) throws {
        var lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.first == "sat" else { throw CounterexampleError("first line is \(lines.first.debugDescription), not sat") }
        lines.removeFirst()
        var values: [String: Double] = [:]
        var opens = 0, closes = 0
        for line in lines where !line.isEmpty {
            var body = Substring(line)
            while body.first == "(" { body.removeFirst(); opens += 1 }
            while body.last == ")" { body.removeLast(); closes += 1 }
            body = Substring(body.trimmingCharacters(in: .whitespaces))
            if body.isEmpty { continue }
            let parts = body.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let value = Double(parts[1]), value.isFinite,
                  parts[0].hasPrefix("X_") || parts[0].hasPrefix("Y_"), Int(parts[0].dropFirst(2)) != nil
            else { throw CounterexampleError("cannot read the line \(line.debugDescription)") }
            guard values.updateValue(value, forKey: String(parts[0])) == nil else {
                throw CounterexampleError("\(parts[0]) appears twice")
            }
        }
        guard opens == closes else { throw CounterexampleError("unbalanced parentheses: \(opens) '(' and \(closes) ')'") }
        func vector(_ prefix: String) throws -> [Double] {
            let count = values.keys.filter { $0.hasPrefix(prefix) }.count
            return try (0..<count).map { i in
                guard let v = values["\(prefix)\(i)"] else { throw CounterexampleError("\(prefix)\(i) missing") }
                return v
            }
        }
        x = try vector("X_")
        y = try vector("Y_")
    }
}

struct CounterexampleError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The hull of a VNNLIB property's input region: for every X_i the smallest lower and largest
/// upper bound among its atoms `(<= X_i c)`, `(>= X_i c)`, `(<= c X_i)`, `(>= c X_i)`. For a
/// property with one box this is the box. A small reader of its own, independent of `VNNLib`.
func inputHull(ofProperty path: String) throws -> (lower: [Double], upper: [Double]) {
    let text = try String(contentsOfFile: path, encoding: .utf8)
        .split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
        .joined(separator: "\n")
    let tokens = text.replacingOccurrences(of: "(", with: " ( ").replacingOccurrences(of: ")", with: " ) ")
        .split(whereSeparator: { $0.isWhitespace }).map(String.init)
    var lower: [Int: Double] = [:], upper: [Int: Double] = [:]
    var index = 0
    func variable(_ s: String) -> Int? { s.hasPrefix("X_") ? Int(s.dropFirst(2)) : nil }
    while index + 4 < tokens.count {
        defer { index += 1 }
        guard tokens[index] == "(", tokens[index + 4] == ")", ["<=", ">="].contains(tokens[index + 1]) else { continue }
        let op = tokens[index + 1], a = tokens[index + 2], b = tokens[index + 3]
        // x <= c and c >= x bound x from above; x >= c and c <= x from below.
        if let i = variable(a), let c = Double(b) {
            if op == "<=" { upper[i] = max(upper[i] ?? -.infinity, c) } else { lower[i] = min(lower[i] ?? .infinity, c) }
        } else if let i = variable(b), let c = Double(a) {
            if op == ">=" { upper[i] = max(upper[i] ?? -.infinity, c) } else { lower[i] = min(lower[i] ?? .infinity, c) }
        }
    }
    let n = (Array(lower.keys) + Array(upper.keys)).max().map { $0 + 1 } ?? 0
    return ((0..<n).map { lower[$0] ?? -.infinity }, (0..<n).map { upper[$0] ?? .infinity })
}

/// `nnverify eval` of one input, as Doubles; fails the test (and returns nil) when it cannot.
func evaluate(_ network: String, at x: [Double], file: StaticString = #filePath, line: UInt = #line) throws -> [Double]? {
    let run = try CLI.invoke(["eval", network], input: x.map { "\($0)" }.joined(separator: " ") + "\n", limit: 60)
    guard run.status == 0 else {
        XCTFail("eval failed: \(run.summary)", file: file, line: line)
        return nil
    }
    let values = run.lines.map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard values.allSatisfy({ $0 != nil }) else {
        XCTFail("eval printed a line that is not a number: \(run.summary)", file: file, line: line)
        return nil
    }
    return values.map { $0! }
}

/// Whether `python3` with onnxruntime and numpy is available (for the independent re-check).
let pythonWithONNXRuntime: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import numpy, onnxruntime"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

/// Runs `scripts/check_counterexample.py` and returns (exit status, stdout + stderr).
func runCounterexampleChecker(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", CLI.repository.appendingPathComponent("scripts/check_counterexample.py").path] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
