import Dispatch
import Foundation
import XCTest
import Network
@testable import LPAbstraction

/// Results collected from Dispatch workers, each writing its own slot.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [[Double]]
    init(count: Int) { values = [[Double]](repeating: [], count: count) }
    func set(_ i: Int, _ v: [Double]) { lock.lock(); values[i] = v; lock.unlock() }
    var all: [[Double]] { lock.lock(); defer { lock.unlock() }; return values }
}

/// GLPK keeps its environment per thread; every worker owns its problems.
final class ConcurrencyTests: XCTestCase {
    /// Bounds plus a handful of LP solves on one network; everything on the calling thread.
    static func work(_ index: Int) -> [Double] {
        let network = TestNetworks.randomDense(widths: [3, 8, 8, 3], seed: UInt64(5000 + index % 4))
        var rng = SplitMix64(seed: UInt64(index))
        let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 0.5...1.5)
        let propagator = BoundPropagator(network: network)
        let bounds = propagator.bounds(box: box)
        var results: [Double] = bounds.output.lower + bounds.output.upper
        guard let lp = try? LPRelaxation(network: network, box: box, bounds: bounds, assignment: PhaseAssignment(network: network)) else {
            return [.nan]
        }
        for j in 0..<3 {
            var c = [0.0, 0.0, 0.0]
            c[j] = 1
            if case .optimal(let v, _) = lp.minimize(outputCoefficients: c, deadline: nil) { results.append(v) } else { results.append(.nan) }
        }
        for i in 0..<8 {
            if case .optimal(let v, _) = lp.minimize(preActivationOf: NeuronID(layer: 1, index: i), maximize: i % 2 == 0, deadline: nil) {
                results.append(v)
            } else {
                results.append(.nan)
            }
        }
        return results
    }

    func testConcurrentLPsMatchSequential() {
        let count = 24
        let sequential = (0..<count).map { Self.work($0) }
        let slots = ResultSlots(count: count)
        DispatchQueue.concurrentPerform(iterations: count) { i in
            slots.set(i, Self.work(i))
        }
        let concurrent = slots.all
        for i in 0..<count {
            XCTAssertFalse(sequential[i].contains { $0.isNaN }, "sequential run \(i) failed")
            XCTAssertEqual(sequential[i], concurrent[i], "worker \(i) differs from the sequential run")
        }
    }
}
