import Dispatch
import Foundation
import Verifier

/// `verify`'s progress on stderr while a run goes on: on a terminal one line redrawn every second,
/// otherwise (asked for with `--progress`, e.g. into a log) a plain line every ten seconds; the
/// environment variable `NNVERIFY_PROGRESS_INTERVAL` (seconds) sets another interval.
final class VerifyProgressLines {
    let progress = VerificationProgress()
    private let isTerminal: Bool
    private let start = ContinuousClock.now
    /// Serial: a redraw never interleaves with ``stop()``'s clearing of the line.
    private let queue = DispatchQueue(label: "nnverify.verify-progress")
    private let timer: DispatchSourceTimer

    /// Whether `verify` shows progress: `--progress` / `--no-progress` when given, else only when
    /// stderr is a terminal (so the VNN-COMP scripts and pipes get none).
    static func wanted(_ flag: Bool?) -> Bool { flag ?? (isatty(STDERR_FILENO) != 0) }

    init() {
        isTerminal = isatty(STDERR_FILENO) != 0
        timer = DispatchSource.makeTimerSource(queue: queue)
        let seconds = ProcessInfo.processInfo.environment["NNVERIFY_PROGRESS_INTERVAL"].flatMap(Double.init)
            .flatMap { $0 > 0 && $0.isFinite ? $0 : nil } ?? (isTerminal ? 1 : 10)
        let interval = DispatchTimeInterval.milliseconds(Int(max(1, (seconds * 1000).rounded())))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.draw() }
        timer.resume()
    }

    /// Stops the lines; on a terminal the last one is cleared, so the verdict's note stands alone.
    func stop() {
        queue.sync {
            timer.cancel()
            if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }

    private func draw() {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let text = String(format: "%6.0f s  ", seconds) + progress.snapshot().line
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + text : text + "\n").utf8))
    }
}
