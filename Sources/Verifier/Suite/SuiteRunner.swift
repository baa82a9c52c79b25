import Foundation
import Network
import VNNLib

/// The outcome of one suite instance.
public struct SuiteOutcome: Sendable {
    /// The instance that ran.
    public var instance: SuiteInstance
    /// `sat`, `unsat`, `unknown`, `timeout`, or `error`.
    public var verdict: String
    /// Wall time in seconds, loading included.
    public var seconds: Double
    /// The time limit actually applied.
    public var timeout: Double
    /// The error message when `verdict` is `error`.
    public var message: String?
    /// The published verdict, when ground truth was given.
    public var published: String?
    /// The outcome was read from an earlier run's results file (`resuming`), not run now.
    public var resumed = false

    /// The outcome as a row of the results file (`onnx,vnnlib,timeout,verdict,time_s`).
    public var csvRow: String {
        let limit = timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)
        return "\(instance.onnx),\(instance.vnnlib),\(limit),\(verdict),\(String(format: "%.3f", seconds))"
    }

    /// Whether the answer contradicts a published `sat`/`unsat` verdict.
    public var isWrong: Bool {
        guard let published, ["sat", "unsat"].contains(published), ["sat", "unsat"].contains(verdict) else { return false }
        return published != verdict
    }
}

/// Runs a VNN-COMP instance list one instance after another and writes `results.csv` as it goes.
public struct SuiteRunner {
    /// Folder the instance paths are relative to.
    public var root: String
    /// Multiplies every instance's timeout.
    public var timeoutScale: Double = 1
    /// Caps every instance's timeout (after scaling).
    public var maxTimeout: Double?
    /// Options passed to the verifier (its timeout is replaced per instance).
    public var options: VerificationOptions
    /// Published verdicts to compare against.
    public var groundTruth: GroundTruth?
    /// Whether to compress each network over its property's region before the search.
    public var compress = false

    /// Creates a runner.
    public init(root: String, options: VerificationOptions, groundTruth: GroundTruth? = nil) {
        self.root = root
        self.options = options
        self.groundTruth = groundTruth
    }

    /// The header of the results file.
    public static let resultsHeader = "onnx,vnnlib,timeout,verdict,time_s"

    /// Runs every instance; `resultsPath` (when given) receives one flushed row per instance, and
    /// `progress` is told before (`nil` outcome) and after each one.
    ///
    /// With `resuming`, an existing results file is an earlier, interrupted run of the same list:
    /// its rows are kept (``SuiteOutcome/resumed``, reported to `progress` without running) and only
    /// the other instances run, so a suite of many hours survives a stop. Rows with the verdict
    /// `error` run again.
    public func run(_ instances: [SuiteInstance], resultsPath: String?, resuming: Bool = false,
                    progress: (Int, SuiteInstance, SuiteOutcome?) -> Void) throws -> [SuiteOutcome] {
        var earlier: [Int: SuiteOutcome] = [:]
        if resuming, let resultsPath, FileManager.default.fileExists(atPath: resultsPath) {
            earlier = try earlierOutcomes(instances, resultsPath: resultsPath)
        }
        var sink: FileHandle?
        if let resultsPath {
            let kept = earlier.keys.sorted().map { earlier[$0]!.csvRow + "\n" }.joined()
            guard FileManager.default.createFile(atPath: resultsPath, contents: Data((Self.resultsHeader + "\n" + kept).utf8)),
                  let handle = FileHandle(forWritingAtPath: resultsPath) else {
                throw SuiteError.unreadable(path: resultsPath, reason: "cannot create the results file")
            }
            handle.seekToEndOfFile()
            sink = handle
        }
        defer { try? sink?.close() }
        var outcomes: [SuiteOutcome] = []
        for (index, instance) in instances.enumerated() {
            if let outcome = earlier[index] {
                outcomes.append(outcome)
                progress(index, instance, outcome)
                continue
            }
            // Before `progress` shows the instance: not the last one's finished view.
            options.progress?.update { $0 = .init(stage: .loading) }
            progress(index, instance, nil)
            let outcome = runOne(instance)
            outcomes.append(outcome)
            if let sink {
                sink.write(Data((outcome.csvRow + "\n").utf8))
                try? sink.synchronize()
            }
            progress(index, instance, outcome)
        }
        return outcomes
    }

    /// The rows of an earlier run's results file, by the index of their instance in `instances`.
    /// A row must name an instance of the list and carry the limit this run would apply: results
    /// under other limits are not this run's, and mixing them would misreport the suite.
    func earlierOutcomes(_ instances: [SuiteInstance], resultsPath: String) throws -> [Int: SuiteOutcome] {
        let text: String
        do {
            text = try String(contentsOfFile: resultsPath, encoding: .utf8)
        } catch {
            throw SuiteError.unreadable(path: resultsPath, reason: error.localizedDescription)
        }
        // A run stopped before it wrote anything left nothing to keep.
        if text.allSatisfy(\.isWhitespace) { return [:] }
        var index: [String: Int] = [:]
        for (i, instance) in instances.enumerated() { index[instance.onnx + "\n" + instance.vnnlib] = i }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard let header = lines.first, header.trimmingCharacters(in: .whitespaces) == Self.resultsHeader else {
            throw SuiteError.malformed(path: resultsPath, line: 1, reason: "not a results file of `nnverify suite` (header '\(Self.resultsHeader)')")
        }
        var outcomes: [Int: SuiteOutcome] = [:]
        for (number, rawLine) in lines.enumerated().dropFirst() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5, let limit = Double(fields[2]), let seconds = Double(fields[4]),
                  Verdict(rawValue: fields[3]) != nil || fields[3] == "error" else {
                throw SuiteError.malformed(path: resultsPath, line: number + 1, reason: "expected 'onnx,vnnlib,timeout,verdict,time_s'")
            }
            guard let i = index[fields[0] + "\n" + fields[1]] else {
                throw SuiteError.malformed(path: resultsPath, line: number + 1,
                                           reason: "\(fields[0]) \(fields[1]) is not in the instances file; resume with the list that wrote it")
            }
            let applied = self.limit(instances[i])
            guard abs(limit - applied) <= 1e-6 * max(1, applied) else {
                throw SuiteError.malformed(path: resultsPath, line: number + 1,
                                           reason: "ran with a \(fields[2]) s limit, this run's is \(applied) s; write to another file")
            }
            if fields[3] == "error" { outcomes[i] = nil; continue }
            outcomes[i] = SuiteOutcome(instance: instances[i], verdict: fields[3], seconds: seconds, timeout: applied,
                                       published: groundTruth?.verdict(onnx: instances[i].onnx, vnnlib: instances[i].vnnlib),
                                       resumed: true)
        }
        return outcomes
    }

    /// The limit an instance runs under: its own, scaled, then capped.
    func limit(_ instance: SuiteInstance) -> Double {
        var limit = instance.timeout * timeoutScale
        if let maxTimeout { limit = min(limit, maxTimeout) }
        return limit
    }

    /// Runs one instance: load, verify within the (scaled, capped) limit, compare.
    public func runOne(_ instance: SuiteInstance) -> SuiteOutcome {
        let limit = self.limit(instance)
        let clock = ContinuousClock()
        let start = clock.now
        var outcome = SuiteOutcome(instance: instance, verdict: "error", seconds: 0, timeout: limit,
                                   published: groundTruth?.verdict(onnx: instance.onnx, vnnlib: instance.vnnlib))
        do {
            let network = try Network.load(contentsOf: resolve(instance.onnx))
            let specification = try VNNLibParser.parse(contentsOf: resolve(instance.vnnlib))
            var options = self.options
            let remaining = Duration.seconds(limit) - (clock.now - start)
            options.timeout = max(remaining, .zero)
            let result = compress
                ? Verifier.verifyCompressed(network: network, specification: specification, options: options).0
                : Verifier.verify(network: network, specification: specification, options: options)
            outcome.verdict = result.verdict.rawValue
        } catch {
            outcome.message = "\(error)"
        }
        let elapsed = clock.now - start
        outcome.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return outcome
    }

    private func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : (root as NSString).appendingPathComponent(path)
    }

}

/// Totals over a suite run.
public struct SuiteSummary: Sendable {
    /// Instances run.
    public var total = 0
    /// Counts per verdict.
    public var sat = 0, unsat = 0, unknown = 0, timeout = 0, error = 0
    /// Instances whose published verdict is known (`sat`/`unsat`) and that we answered.
    public var agreeing = 0
    /// Answers contradicting a published verdict.
    public var wrong: [SuiteOutcome] = []
    /// Instances the ground truth does not list (nothing to compare them with).
    public var unlisted = 0
    /// Sum of wall times.
    public var seconds = 0.0

    /// Solved instances (`sat` + `unsat`).
    public var solved: Int { sat + unsat }

    /// Tallies outcomes.
    public init(_ outcomes: [SuiteOutcome]) {
        for o in outcomes {
            total += 1
            seconds += o.seconds
            switch o.verdict {
            case "sat": sat += 1
            case "unsat": unsat += 1
            case "unknown": unknown += 1
            case "timeout": timeout += 1
            default: error += 1
            }
            if o.published == nil { unlisted += 1 }
            if o.isWrong { wrong.append(o) } else if o.published == o.verdict, o.verdict == "sat" || o.verdict == "unsat" { agreeing += 1 }
        }
    }
}
