import ArgumentParser
import Dispatch
import Foundation
import LPAbstraction
import Verifier

/// A status line on stderr drawn by a timer while a long call runs on the main thread: on a
/// terminal redrawn in place every second, otherwise a plain line every ten seconds (the
/// environment variable `NNVERIFY_PROGRESS_INTERVAL`, in seconds, sets another interval).
///
/// Drawing happens on a private serial queue; callers change what the line shows through
/// ``sync(_:)``, so a redraw never sees half an update or interleaves with ``stop()``.
final class ProgressLines: @unchecked Sendable {
    /// Whether stderr is a terminal: the one test of it that every progress display uses.
    static let stderrIsTerminal = isatty(STDERR_FILENO) != 0
    let isTerminal = ProgressLines.stderrIsTerminal
    private let queue = DispatchQueue(label: "nnverify.progress-lines")
    private let timer: DispatchSourceTimer
    private let text: () -> String?

    /// Starts the timer; `text` (run on the private queue) gives the line, or nil to skip a beat.
    init(text: @escaping () -> String?) {
        self.text = text
        timer = DispatchSource.makeTimerSource(queue: queue)
        let seconds = ProcessInfo.processInfo.environment["NNVERIFY_PROGRESS_INTERVAL"].flatMap(Double.init)
            .flatMap { $0 > 0 && $0.isFinite ? $0 : nil } ?? (isTerminal ? 1 : 10)
        let interval = DispatchTimeInterval.milliseconds(Int(max(1, (seconds * 1000).rounded())))
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [weak self] in self?.draw() }
        timer.resume()
    }

    /// Runs `body` on the drawing queue: where the state the line shows may change.
    func sync<T>(_ body: () -> T) -> T { queue.sync(execute: body) }

    /// Draws the line now (from inside ``sync(_:)`` or the timer).
    func drawNow() { draw() }

    /// Stops the timer; on a terminal the line is cleared, so what follows stands alone.
    func stop() {
        queue.sync {
            timer.cancel()
            if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }

    private func draw() {
        guard let line = text() else { return }
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }
}

/// `--progress` / `--no-progress`, shared by the commands that can run for minutes.
struct ProgressOption: ParsableArguments {
    @Flag(inversion: .prefixedNo,
          help: "Show what the run is doing on stderr while it goes on (default: only when stderr is a terminal).")
    var progress: Bool?

    /// Whether to show progress: as asked, else only when stderr is a terminal (so the VNN-COMP
    /// scripts and pipes get none).
    var wanted: Bool { progress ?? ProgressLines.stderrIsTerminal }
}

/// `verify`'s progress: the run's stage, conjunctions refuted and search work, with the time.
final class VerifyProgressLines {
    let progress: VerificationProgress
    private let lines: ProgressLines

    init() {
        let progress = VerificationProgress(), start = ContinuousClock.now
        self.progress = progress
        lines = ProgressLines {
            String(format: "%6.0f s  ", (ContinuousClock.now - start).seconds) + progress.snapshot().line
        }
    }

    func stop() { lines.stop() }
}

/// `stability`'s and `compress`'s progress while the detector classifies: its step and the counts
/// so far, which the detector hands over at each step and proof batch.
final class DetectorProgressLines: @unchecked Sendable {
    private let lock = NSLock()
    private var latest: DetectorProgress?
    private var lines: ProgressLines?

    init() {
        let start = ContinuousClock.now
        lines = ProgressLines { [weak self] in
            guard let self, let p = self.current() else { return nil }
            var text = String(format: "%6.0f s  classifying: ", (ContinuousClock.now - start).seconds) + p.step
            text += " · \(p.active) active, \(p.inactive) inactive, \(p.unstable) unstable, \(p.unknown) undecided"
            if p.round > 0 { text += " · \(p.openProofs) proofs open (round \(p.round))" }
            return text
        }
    }

    /// The callback for ``StableNeuronDetector/Configuration/progress``.
    var callback: @Sendable (DetectorProgress) -> Void {
        { [weak self] progress in
            guard let self else { return }
            self.lock.lock()
            self.latest = progress
            self.lock.unlock()
        }
    }

    private func current() -> DetectorProgress? {
        lock.lock()
        defer { lock.unlock() }
        return latest
    }

    func stop() { lines?.stop() }
}
