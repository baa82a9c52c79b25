import LPAbstraction
import Network
import VNNLib
import XCTest
@testable import Verifier

/// The parallel search: several workers with donation and a shared clause store must reach the
/// same verdicts as one worker, and the truth. Run under ThreadSanitizer too:
/// `swift test --sanitize=thread --filter VerifierTests.SearchParallel`.
final class SearchParallelTests: XCTestCase {
    /// Tight instances make the workers branch, donate cubes and share clauses.
    func testReLUSearchVerdictsDoNotDependOnThreads() {
        var stats = SearchStatistics()
        for k in 0..<8 {
            let seed = UInt64(50000 + k)
            let instance = SearchTestInstance.tight(seed: seed, inputs: 3, hidden: [8, 8], outputs: 3, margin: 0.02)
            let truth: Verdict = seed % 2 == 0 ? .unsat : .sat
            for threads in [1, 2, 4] {
                let result = Verifier.verify(network: instance.network, specification: instance.specification,
                                             options: VerificationOptions(timeout: .seconds(30), threads: threads, seed: 0),
                                             search: SearchBruteForceTests.searchOptions(inputSplitting: false))
                XCTAssertEqual(result.verdict, truth, "seed \(seed), \(threads) threads")
                if let ce = result.counterexample {
                    let checked = CounterexampleChecker(network: instance.network, specification: instance.specification)
                        .check(ce.input, caseIndex: ce.caseIndex)
                    XCTAssertNotNil(checked, "seed \(seed): the counterexample does not check")
                }
                if threads > 1 { stats.merge(result.statistics) }
            }
        }
        print("parallel ReLU search: nodes \(stats.nodes), conflicts \(stats.conflicts), learned \(stats.learnedClauses)")
        XCTAssertGreaterThan(stats.conflicts, 8)
    }

    func testInputSplittingVerdictsDoNotDependOnThreads() {
        for k in 0..<8 {
            let seed = UInt64(60000 + k)
            let instance = SearchTestInstance.tight(seed: seed, inputs: 3, hidden: [8, 8], outputs: 3, margin: 0.02)
            let truth: Verdict = seed % 2 == 0 ? .unsat : .sat
            for threads in [1, 2, 4] {
                let result = Verifier.verify(network: instance.network, specification: instance.specification,
                                             options: VerificationOptions(timeout: .seconds(30), threads: threads, seed: 0),
                                             search: SearchBruteForceTests.searchOptions(inputSplitting: true))
                XCTAssertEqual(result.verdict, truth, "seed \(seed), \(threads) threads")
            }
        }
    }

    /// A progress view read by another thread throughout a parallel run counts exactly the nodes
    /// and conflicts the statistics count, never goes backwards, ends `finished`, and changes no
    /// verdict.
    func testProgressCountsWhatTheSearchCountsWhileAnotherThreadWatches() {
        for (k, inputSplitting) in [(0, false), (1, false), (2, true), (3, true)] {
            let seed = UInt64(50000 + k)
            let instance = SearchTestInstance.tight(seed: seed, inputs: 3, hidden: [8, 8], outputs: 3, margin: 0.02)
            let truth: Verdict = seed % 2 == 0 ? .unsat : .sat
            let progress = VerificationProgress()
            let done = LockedCounter()
            let watcher = Thread {
                var last = progress.snapshot()
                while done.value == 0 {
                    let now = progress.snapshot()
                    XCTAssertGreaterThanOrEqual(now.nodes, last.nodes)
                    XCTAssertGreaterThanOrEqual(now.conflicts, last.conflicts)
                    XCTAssertGreaterThanOrEqual(now.refuted, last.refuted)
                    XCTAssertFalse(now.line.isEmpty)
                    last = now
                    Thread.sleep(forTimeInterval: 0.0005)
                }
                done.increment()
            }
            watcher.start()
            let result = Verifier.verify(network: instance.network, specification: instance.specification,
                                         options: VerificationOptions(timeout: .seconds(30), threads: 2, seed: 0, progress: progress),
                                         search: SearchBruteForceTests.searchOptions(inputSplitting: inputSplitting))
            done.increment()
            while done.value < 2 { Thread.sleep(forTimeInterval: 0.001) }
            let end = progress.snapshot()
            XCTAssertEqual(result.verdict, truth, "seed \(seed)")
            XCTAssertEqual(end.stage, .finished)
            XCTAssertEqual(end.nodes, result.statistics.nodes, "seed \(seed)")
            XCTAssertEqual(end.conflicts, result.statistics.conflicts, "seed \(seed)")
            XCTAssertEqual(end.conjunctions, instance.specification.cases.reduce(0) { $0 + $1.violation.count })
            if truth == .unsat {
                XCTAssertGreaterThan(end.nodes, end.conjunctions, "seed \(seed): the instance should need a search")
                XCTAssertEqual(end.refuted, end.conjunctions)
            }
        }
    }

    /// The work pool hands out every task exactly once and ends when all workers are idle, with
    /// donations in between.
    func testWorkPoolTerminatesAndLosesNothing() {
        let pool = WorkPool<Int>()
        pool.push(1 << 10)
        let leaves = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            while let first = pool.next() {
                var stack = [first]
                while let n = stack.popLast() {
                    if n == 1 {
                        leaves.increment()
                        continue
                    }
                    stack.append(n / 2)
                    stack.append(n - n / 2)
                    if stack.count >= 2, pool.isHungry { pool.push(stack.removeFirst()) }
                }
                pool.finish()
            }
        }
        XCTAssertEqual(leaves.value, 1 << 10)
    }
}

/// A counter shared by test workers.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
