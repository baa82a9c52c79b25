import ArgumentParser
import Foundation
import Verifier

/// `nnverify suite`: run a VNN-COMP instance list and compare with published verdicts.
struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run every instance of a VNN-COMP instances.csv and summarise.",
        discussion: """
            Progress goes to stderr; the results table and summary to stdout. With \
            --ground-truth, any answer contradicting a published verdict is printed loudly and \
            the exit status is 1.
            """
    )

    @Argument(help: "The instances file (onnx,vnnlib,timeout per line).")
    var instances: String

    @Option(help: "Folder the instance paths are relative to (default: the instances file's folder).")
    var root: String?

    @Option(help: "Write results.csv here (one flushed row per instance).")
    var out: String?

    @Option(name: .customLong("timeout-scale"), help: "Multiply every instance's timeout.")
    var timeoutScale: Double = 1

    @Option(name: .customLong("max-timeout"), help: "Cap every instance's timeout (seconds).")
    var maxTimeout: Double?

    @Option(help: "Worker threads per instance (default: the number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Seed for every random choice.")
    var seed: UInt64 = 0

    @Option(name: .customLong("ground-truth"), help: "A results.csv with published verdicts to compare against.")
    var groundTruth: String?

    @Flag(help: "Compress each network exactly over its property's input region before the search.")
    var compress = false

    @Flag(help: "Keep the rows an earlier, interrupted run wrote to --out (same list and limits) and run only the rest.")
    var resume = false

    func validate() throws {
        guard timeoutScale.isFinite, timeoutScale > 0 else { throw ValidationError("--timeout-scale must be positive") }
        if let maxTimeout { guard maxTimeout.isFinite, maxTimeout > 0 else { throw ValidationError("--max-timeout must be positive") } }
        if resume, out == nil { throw ValidationError("--resume needs --out (the results file to resume)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let summary: SuiteSummary = try Diagnostics.reportingErrors {
            let list = try SuiteInstance.load(contentsOf: instances)
            var runner = SuiteRunner(
                root: root ?? (instances as NSString).deletingLastPathComponent,
                options: VerificationOptions(threads: threads, seed: seed),
                groundTruth: try groundTruth.map { try GroundTruth(contentsOf: $0) })
            runner.timeoutScale = timeoutScale
            runner.maxTimeout = maxTimeout
            runner.compress = compress
            let progress = SuiteProgress(total: list.count)
            print(SuiteRunner.resultsHeader)
            let outcomes = try runner.run(list, resultsPath: out, resuming: resume) { index, instance, outcome in
                if let outcome {
                    print(outcome.csvRow)
                    fflush(nil)
                    if let message = outcome.message { Diagnostics.note("error: \(message)") }
                    if outcome.isWrong {
                        Diagnostics.note("WRONG VERDICT: \(instance.onnx) \(instance.vnnlib): answered \(outcome.verdict), published \(outcome.published ?? "")")
                    }
                    progress.finished(index: index, outcome: outcome)
                } else {
                    progress.starting(index: index, instance: instance)
                }
            }
            return SuiteSummary(outcomes)
        }
        print("")
        print("summary: \(summary.total) instances, solved \(summary.solved) (sat \(summary.sat), unsat \(summary.unsat)), unknown \(summary.unknown), timeout \(summary.timeout), error \(summary.error), total time \(String(format: "%.1f", summary.seconds)) s")
        if groundTruth != nil {
            print("ground truth: \(summary.agreeing) agree, \(summary.wrong.count) wrong" + (summary.unlisted > 0 ? ", \(summary.unlisted) not listed" : ""))
            if summary.unlisted > 0 {
                Diagnostics.note("warning: \(summary.unlisted) instance(s) have no published verdict in \(groundTruth ?? "")")
            }
            for o in summary.wrong {
                print("WRONG VERDICT: \(o.instance.onnx) \(o.instance.vnnlib): answered \(o.verdict), published \(o.published ?? "")")
            }
            if !summary.wrong.isEmpty { throw ExitCode(1) }
        }
    }
}

/// Progress on stderr: a redrawn bar with ETA on a terminal, plain lines otherwise.
final class SuiteProgress {
    private let total: Int
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let start = ContinuousClock.now
    private var solved = 0
    /// Instances taken from an earlier run: they finished without taking time, so the ETA's rate
    /// counts only the others.
    private var resumed = 0

    init(total: Int) { self.total = total }

    func starting(index: Int, instance: SuiteInstance) {
        guard isTerminal else { return }
        draw(done: index, current: (instance.vnnlib as NSString).lastPathComponent)
    }

    func finished(index: Int, outcome: SuiteOutcome) {
        if outcome.verdict == "sat" || outcome.verdict == "unsat" { solved += 1 }
        if outcome.resumed { resumed += 1 }
        if isTerminal {
            draw(done: index + 1, current: nil)
            if index + 1 == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            let source = outcome.resumed ? ", from the earlier run" : ""
            Diagnostics.note("[\(index + 1)/\(total)] \(outcome.instance.onnx) \(outcome.instance.vnnlib): \(outcome.verdict) (\(String(format: "%.2f", outcome.seconds)) s\(source))")
        }
    }

    private func draw(done: Int, current: String?) {
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let ran = done - resumed
        let eta = ran <= 0 ? "--" : Self.clock(seconds / Double(ran) * Double(total - done))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let tail = current.map { " \($0)" } ?? ""
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(done)/\(total) solved \(solved) ETA \(eta)\(tail)".utf8))
    }

    private static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
