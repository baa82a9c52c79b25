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

    @OptionGroup var progress: ProgressOption

    func validate() throws {
        guard timeoutScale.isFinite, timeoutScale > 0 else { throw ValidationError("--timeout-scale must be positive") }
        if let maxTimeout { guard maxTimeout.isFinite, maxTimeout > 0 else { throw ValidationError("--max-timeout must be positive") } }
        if resume, out == nil { throw ValidationError("--resume needs --out (the results file to resume)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let summary: SuiteSummary = try Diagnostics.reportingErrors {
            let list = try SuiteInstance.load(contentsOf: instances)
            let progress = SuiteProgress(total: list.count, live: self.progress.wanted)
            defer { progress.end() }
            var runner = SuiteRunner(
                root: root ?? (instances as NSString).deletingLastPathComponent,
                options: VerificationOptions(threads: threads, seed: seed, progress: progress.verification),
                groundTruth: try groundTruth.map { try GroundTruth(contentsOf: $0) })
            runner.timeoutScale = timeoutScale
            runner.maxTimeout = maxTimeout
            runner.compress = compress
            print(SuiteRunner.resultsHeader)
            let outcomes = try runner.run(list, resultsPath: out, resuming: resume) { index, instance, outcome in
                if let outcome {
                    progress.aboveBar {
                        print(outcome.csvRow)
                        fflush(nil)
                    }
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

/// Progress on stderr. On a terminal: a bar with the ETA, redrawn every second with the current
/// instance's stage and search work (``VerificationProgress``). Otherwise: a line per finished
/// instance and, with `--progress`, a line every 10 s on the running one (for long runs' logs).
final class SuiteProgress {
    private let total: Int
    private let start = ContinuousClock.now
    /// Whether the bar is drawn (a terminal, progress not turned off); plain lines otherwise.
    private let drawsBar: Bool
    /// The runs' live view (each run starts it afresh).
    let verification = VerificationProgress()
    /// The timer, when progress is shown; the counters below change only inside its `sync`.
    private var lines: ProgressLines?
    private var done = 0
    private var solved = 0
    /// Instances taken from an earlier run: they finished without taking time, so the ETA's rate
    /// counts only the others.
    private var resumed = 0
    private var current: String?
    private var currentStart = ContinuousClock.now

    init(total: Int, live: Bool) {
        self.total = total
        drawsBar = live && ProgressLines.stderrIsTerminal
        guard live else { return }
        lines = ProgressLines { [weak self] in self?.liveLine() }
    }

    func starting(index: Int, instance: SuiteInstance) {
        lines?.sync {
            done = index
            current = (instance.vnnlib as NSString).lastPathComponent
            currentStart = ContinuousClock.now
            if drawsBar { lines?.drawNow() }
        }
    }

    func finished(index: Int, outcome: SuiteOutcome) {
        let update = {
            self.done = index + 1
            self.current = nil
            if outcome.verdict == "sat" || outcome.verdict == "unsat" { self.solved += 1 }
            if outcome.resumed { self.resumed += 1 }
        }
        if let lines {
            lines.sync {
                update()
                if drawsBar { lines.drawNow() }
            }
        } else {
            update()
        }
        if !drawsBar {
            let source = outcome.resumed ? ", from the earlier run" : ""
            Diagnostics.note("[\(index + 1)/\(total)] \(outcome.instance.onnx) \(outcome.instance.vnnlib): \(outcome.verdict) (\(String(format: "%.2f", outcome.seconds)) s\(source))")
        }
    }

    /// Runs `body` (which prints a results row) with the bar cleared, so that on a terminal the
    /// row does not land at the end of the bar's line; the next redraw puts the bar back below.
    func aboveBar(_ body: () -> Void) {
        guard drawsBar, let lines else { return body() }
        lines.sync {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            body()
        }
    }

    /// Stops the timer and, on a terminal, leaves the final bar on its own line.
    func end() {
        guard let lines else { return }
        lines.stop()
        self.lines = nil
        if drawsBar { FileHandle.standardError.write(Data((barLine() + "\n").utf8)) }
    }

    /// What the timer draws: the bar, or in plain mode the running instance's state.
    private func liveLine() -> String? {
        if drawsBar { return barLine() }
        guard let current else { return nil }
        let seconds = (ContinuousClock.now - currentStart).seconds
        return "[\(done + 1)/\(total)] \(current), \(String(format: "%.0f", seconds)) s: \(verification.snapshot().line)"
    }

    private func barLine() -> String {
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let seconds = (ContinuousClock.now - start).seconds
        let ran = done - resumed
        let eta = ran <= 0 ? "--" : Self.clock(seconds / Double(ran) * Double(total - done))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let tail = current.map { " \($0): \(verification.snapshot().line)" } ?? ""
        return "[\(bar)] \(done)/\(total) solved \(solved) ETA \(eta)\(tail)"
    }

    private static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
