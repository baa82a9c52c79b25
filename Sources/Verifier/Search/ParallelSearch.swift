import Dispatch
import Foundation
import LPAbstraction
import Network
import VNNLib

/// A shared queue of disjoint sub-problems (cubes or boxes) for a fixed set of workers, with
/// the bookkeeping that tells when all of them are done: the queue is empty and no worker holds
/// work. Busy workers donate part of their work when ``isHungry``.
final class WorkPool<Task>: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Task] = []
    private var busy = 0
    private var waiting = 0
    private var stopped = false

    /// Adds a task (from the driver or a donating worker).
    func push(_ task: Task) {
        condition.lock()
        queue.append(task)
        condition.signal()
        condition.unlock()
    }

    /// The next task, blocking while others are busy and may donate; nil when all work is done or
    /// the pool was stopped. The caller is then busy until it calls ``finish()``.
    func next() -> Task? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopped { return nil }
            if !queue.isEmpty {
                busy += 1
                return queue.removeFirst()
            }
            if busy == 0 { return nil }
            waiting += 1
            condition.wait()
            waiting -= 1
        }
    }

    /// Marks the caller's task (and everything it kept of it) done.
    func finish() {
        condition.lock()
        busy -= 1
        if busy == 0 { condition.broadcast() }
        condition.unlock()
    }

    /// Ends the search for everyone (a counterexample was found, or time ran out).
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Some worker waits for work and the queue is empty: donating now keeps it busy.
    var isHungry: Bool {
        condition.lock()
        defer { condition.unlock() }
        return waiting > 0 && queue.isEmpty && !stopped
    }

    var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }
}

/// Collects the workers' results: the first counterexample, whether any worker timed out or
/// ended undecided, and the summed statistics.
final class ResultCollector: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var counterexample: Counterexample?
    private(set) var timedOut = false
    private(set) var undecided = false
    private(set) var statistics = SearchStatistics()

    func record(_ outcome: SearchOutcome) {
        lock.lock()
        defer { lock.unlock() }
        switch outcome {
        case .counterexample(let ce):
            // Keep the one from the lowest case/disjunct for a stable report.
            if counterexample == nil { counterexample = ce }
        case .timeout: timedOut = true
        case .unknown: undecided = true
        case .refuted: break
        }
    }

    func add(_ stats: SearchStatistics) {
        lock.lock()
        statistics.merge(stats)
        lock.unlock()
    }

    /// The combined outcome: a counterexample wins; then timeout, then undecided; else refuted.
    var outcome: SearchOutcome {
        lock.lock()
        defer { lock.unlock() }
        if let counterexample { return .counterexample(counterexample) }
        if timedOut { return .timeout }
        if undecided { return .unknown }
        return .refuted
    }
}

extension SolverState {
    /// Work stealing by donation: when another worker waits and the queue is empty, give away the
    /// sibling of the first decision above the base level (`cube ∧ ¬d`) and keep `cube ∧ d` by
    /// turning `d` into an assumption. The two cubes partition this worker's region.
    func donateIfWanted() {
        guard let pool, trail.decisionLevel > baseLevel, pool.isHungry else { return }
        let d = trail.decision(at: baseLevel + 1)
        pool.push(cube + [d.negated])
        trail.markAssumption(d.variable)
        cube.append(d)
        baseLevel += 1
    }
}

/// The ReLU-phase DPLL(T) search of one problem over several workers.
enum ReLUSearch {
    /// Searches `problem` with `threads` workers sharing learned clauses (starting from those of
    /// earlier searches of the problem, ``Problem/learnedClauses``); returns the combined outcome
    /// and statistics.
    static func run(network: Network, specification: Specification, problem: Problem, options: SearchOptions,
                    threads: Int, deadline: ContinuousClock.Instant,
                    propagator: BoundPropagator) -> (SearchOutcome, SearchStatistics) {
        let pool = WorkPool<[Literal]>()
        pool.push([])
        let results = ResultCollector()
        let workers = max(1, threads)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let state = SolverState(network: network, problem: problem, specification: specification,
                                    options: options, deadline: deadline, propagator: propagator,
                                    pool: workers > 1 ? pool : nil)
            while let cube = pool.next() {
                let outcome = state.solve(cube: cube)
                results.record(outcome)
                switch outcome {
                case .counterexample, .timeout: pool.stop()
                case .refuted, .unknown: break
                }
                pool.finish()
            }
            results.add(state.stats)
        }
        return (results.outcome, results.statistics)
    }
}
