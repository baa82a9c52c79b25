import Foundation
import XCTest
import Network
import VNNLib
@testable import Verifier

final class FalsifierTests: XCTestCase {
    private let clock = ContinuousClock()
    private var later: ContinuousClock.Instant { clock.now.advanced(by: .seconds(60)) }

    // MARK: Fixtures

    private func dense(_ rows: Int, _ columns: Int, _ weights: [Double], _ bias: [Double], reading input: Int) -> Node {
        Node(operation: .dense(DenseLayer(weights: Matrix(rows: rows, columns: columns, values: weights), bias: bias)),
             inputs: [input], shape: [rows])
    }

    /// Two inputs; `y0 = relu(x0 + x1) - relu(-x0 - x1) = x0 + x1`, `y1 = relu(x0 - x1) - relu(x1 - x0) = x0 - x1`,
    /// `y2 = 1.95`. Written through ReLUs so the gradient passes through them.
    private var sumNetwork: Network {
        Network(nodes: [
            Node(operation: .input, inputs: [], shape: [2]),
            dense(4, 2, [1, 1, -1, -1, 1, -1, -1, 1], [0, 0, 0, 0], reading: 0),
            Node(operation: .relu, inputs: [1], shape: [4]),
            dense(3, 4, [1, -1, 0, 0, 0, 0, 1, -1, 0, 0, 0, 0], [0, 0, 1.95], reading: 2),
        ], output: 3)
    }

    private func box2(_ violation: [[LinearConstraint]]) -> Specification {
        Specification(inputCount: 2, outputCount: 3, cases: [Case(lower: [-1, -1], upper: [1, 1], violation: violation)])
    }

    /// `Y_a ≥ Y_b` as `Y_b - Y_a ≤ 0`.
    private func greaterOrEqual(_ a: Int, _ b: Int, strict: Bool = false) -> LinearConstraint {
        LinearConstraint(terms: [(.output(a), -1), (.output(b), 1)], bound: 0, isStrict: strict)
    }

    /// `Y_j ≥ value` as `-Y_j ≤ -value`.
    private func atLeast(_ j: Int, _ value: Double) -> LinearConstraint {
        LinearConstraint(terms: [(.output(j), -1)], bound: -value)
    }

    /// Independent re-check of a reported counterexample: in the box, float32-representable, and
    /// violating in both precisions.
    private func assertGenuine(_ found: Counterexample, _ network: Network, _ spec: Specification,
                               file: StaticString = #filePath, line: UInt = #line) {
        let box = spec.cases[found.caseIndex]
        for (i, x) in found.input.enumerated() {
            XCTAssertTrue(box.lower[i] <= x && x <= box.upper[i], "input \(i) = \(x) outside the box", file: file, line: line)
            XCTAssertEqual(Double(Float(x)), x, "input \(i) is not a float32 value", file: file, line: line)
        }
        let double: [Double] = network.evaluate(found.input)
        let float = (network.evaluate(found.input.map { Float($0) }) as [Float]).map { Double($0) }
        XCTAssertEqual(found.output, double, file: file, line: line)
        for constraint in box.violation[found.disjunctIndex] {
            XCTAssertLessThan(constraint.slack(inputs: found.input, outputs: double), 0, file: file, line: line)
            XCTAssertLessThan(constraint.slack(inputs: found.input, outputs: float), 0, file: file, line: line)
        }
    }

    // MARK: Finding counterexamples

    func testRandomSamplingFindsAViolation() throws {
        // y0 ≥ 1.5: x0 + x1 ≥ 1.5, about 3% of the box.
        let spec = box2([[atLeast(0, 1.5)]])
        let falsifier = Falsifier(network: sumNetwork, specification: spec,
                                  options: FalsificationOptions(randomSamples: 1000, pgdRestarts: 0))
        let found = try XCTUnwrap(falsifier.run(deadline: later))
        assertGenuine(found, sumNetwork, spec)
    }

    func testGradientDescentFindsATinyRegion() throws {
        // y0 ≥ y2: x0 + x1 ≥ 1.95, 0.03% of the box; sampling is switched off.
        let spec = box2([[greaterOrEqual(0, 2)]])
        let falsifier = Falsifier(network: sumNetwork, specification: spec,
                                  options: FalsificationOptions(randomSamples: 0, pgdRestarts: 2, pgdSteps: 30))
        let found = try XCTUnwrap(falsifier.run(deadline: later))
        assertGenuine(found, sumNetwork, spec)
        XCTAssertGreaterThanOrEqual(found.input[0] + found.input[1], 1.95)
    }

    func testGradientDescentSatisfiesCompetingConstraints() throws {
        // x0 + x1 ≥ 1.8 and x0 - x1 ≥ 0.1: a thin sliver near x0 = 1.
        let spec = box2([[atLeast(0, 1.8), atLeast(1, 0.1)]])
        let falsifier = Falsifier(network: sumNetwork, specification: spec,
                                  options: FalsificationOptions(randomSamples: 0, pgdRestarts: 4, pgdSteps: 60))
        let found = try XCTUnwrap(falsifier.run(deadline: later))
        assertGenuine(found, sumNetwork, spec)
    }

    func testFindsTheViolatedDisjunctAndCase() throws {
        let spec = Specification(inputCount: 2, outputCount: 3, cases: [
            Case(lower: [-1, -1], upper: [0, 0], violation: [[atLeast(0, 0.5)]]),      // impossible there
            Case(lower: [0, 0], upper: [1, 1], violation: [[atLeast(0, 5)], [atLeast(1, 0.9)]]),
        ])
        let falsifier = Falsifier(network: sumNetwork, specification: spec,
                                  options: FalsificationOptions(randomSamples: 10, pgdRestarts: 3))
        let found = try XCTUnwrap(falsifier.run(deadline: later))
        XCTAssertEqual(found.caseIndex, 1)
        XCTAssertEqual(found.disjunctIndex, 1)
        assertGenuine(found, sumNetwork, spec)
    }

    func testIsDeterministicForASeed() throws {
        let network = FalsifierFixtures.denseNetwork([5, 16, 16, 4], seed: 21)
        let spec = Specification(inputCount: 5, outputCount: 4, cases: [
            Case(lower: [Double](repeating: -1, count: 5), upper: [Double](repeating: 1, count: 5),
                 violation: [[greaterOrEqual(1, 0), greaterOrEqual(1, 2), greaterOrEqual(1, 3)]]),
        ])
        for samples in [200, 0] {
            let options = FalsificationOptions(seed: 7, randomSamples: samples, pgdRestarts: 5, pgdSteps: 40,
                                               repeatsUntilDeadline: false)
            let first = Falsifier(network: network, specification: spec, options: options).run(deadline: later)
            let second = Falsifier(network: network, specification: spec, options: options).run(deadline: later)
            XCTAssertEqual(first, second)
            if let first { assertGenuine(first, network, spec) }
        }
    }

    func testFindsViolationsOnConvolutionAndResidualNetworks() throws {
        for network in [FalsifierFixtures.convolutionNetwork(seed: 4), FalsifierFixtures.residualNetwork(seed: 5)] {
            // Output 1 at least output 0: a random network reaches it somewhere in a wide box.
            let n = network.inputSize, m = network.outputSize
            let spec = Specification(inputCount: n, outputCount: m, cases: [
                Case(lower: [Double](repeating: -2, count: n), upper: [Double](repeating: 2, count: n),
                     violation: [[greaterOrEqual(1, 0)], [greaterOrEqual(0, 1)]]),
            ])
            let found = try XCTUnwrap(Falsifier(network: network, specification: spec,
                                                options: FalsificationOptions(randomSamples: 50)).run(deadline: later))
            assertGenuine(found, network, spec)
        }
    }

    func testTryPointPolishesANearMiss() throws {
        let spec = box2([[greaterOrEqual(0, 2)]])
        let falsifier = Falsifier(network: sumNetwork, specification: spec)
        // x0 + x1 = 1.9: not yet a violation, but a few steps away from one.
        let start = [0.95, 0.95]
        XCTAssertNil(falsifier.checker.check(start, caseIndex: 0))
        let found = try XCTUnwrap(falsifier.tryPoint(start, caseIndex: 0, deadline: later))
        assertGenuine(found, sumNetwork, spec)
        // A point that already violates comes back as it is.
        let direct = try XCTUnwrap(falsifier.tryPoint([1, 1], caseIndex: 0, deadline: later))
        XCTAssertEqual(direct.input, [1, 1])
        XCTAssertNil(falsifier.tryPoint([1, 1], caseIndex: 3, deadline: later))
    }

    // MARK: Never a bogus answer

    func testDoesNotFalsifyAProvablySafeNetwork() {
        // Interval bounds of a random network give a threshold no input can reach.
        let network = FalsifierFixtures.denseNetwork([5, 12, 12, 3], seed: 31)
        let lower = [Double](repeating: -1, count: 5), upper = [Double](repeating: 1, count: 5)
        let bounds = intervalBounds(network, lower: lower, upper: upper)
        let spec = Specification(inputCount: 5, outputCount: 3, cases: [
            Case(lower: lower, upper: upper, violation: [[atLeast(0, bounds.upper[0] + 1e-9)],
                                                         [atLeast(2, bounds.upper[2] + 1e-9)]]),
        ])
        let falsifier = Falsifier(network: network, specification: spec,
                                  options: FalsificationOptions(randomSamples: 500, pgdRestarts: 6, pgdSteps: 40, repeatsUntilDeadline: false))
        XCTAssertNil(falsifier.run(deadline: later))
    }

    func testDoesNotAcceptABoundaryOfAStrictInequality() {
        // relu(x) < 0 never holds; descent drives the output to exactly 0.
        let network = Network(nodes: [
            Node(operation: .input, inputs: [], shape: [1]),
            Node(operation: .relu, inputs: [0], shape: [1]),
        ], output: 1)
        let spec = Specification(inputCount: 1, outputCount: 1, cases: [
            Case(lower: [-1], upper: [1], violation: [[LinearConstraint(terms: [(.output(0), 1)], bound: 0, isStrict: true)]]),
        ])
        XCTAssertNil(Falsifier(network: network, specification: spec,
                                options: FalsificationOptions(repeatsUntilDeadline: false)).run(deadline: later))
    }

    func testRepeatsUntilTheDeadlineOnlyWhenAsked() {
        let spec = box2([[atLeast(0, 2.5)]])   // out of reach: y0 = x0 + x1 ≤ 2
        let bounded = Falsifier(network: sumNetwork, specification: spec,
                                options: FalsificationOptions(randomSamples: 10, pgdRestarts: 1, pgdSteps: 5,
                                                              repeatsUntilDeadline: false))
        let start = clock.now
        XCTAssertNil(bounded.run(deadline: later))
        XCTAssertLessThan(clock.now - start, .seconds(5))
        let repeating = Falsifier(network: sumNetwork, specification: spec,
                                  options: FalsificationOptions(randomSamples: 10, pgdRestarts: 1, pgdSteps: 5))
        let deadline = clock.now.advanced(by: .milliseconds(300))
        XCTAssertNil(repeating.run(deadline: deadline))
        XCTAssertGreaterThanOrEqual(clock.now, deadline)
    }

    /// Extremes of piecewise-linear networks sit on the boundary of the box: a share of the samples
    /// must lie on faces (some coordinates at a bound, others strictly inside), not only at the
    /// centre, the corners, or uniformly inside (where a face has probability zero).
    func testSamplesLieOnFacesAsWellAsInside() {
        let lower = [Double](repeating: -1, count: 6), upper = [Double](repeating: 2, count: 6)
        var generator = SplitMix64(seed: 7)
        var point: [Double] = []
        var faces = 0, interior = 0
        for index in 1..<1000 {
            Falsifier.samplePoint(index, lower: lower, upper: upper, generator: &generator, into: &point)
            XCTAssertTrue(point.indices.allSatisfy { point[$0] >= lower[$0] && point[$0] <= upper[$0] })
            let atBound = point.indices.filter { point[$0] == lower[$0] || point[$0] == upper[$0] }.count
            if atBound > 0 && atBound < point.count { faces += 1 }
            if atBound == 0 { interior += 1 }
        }
        XCTAssertGreaterThan(faces, 300)
        XCTAssertGreaterThan(interior, 300)
    }

    func testStopsAtTheDeadline() {
        let spec = box2([[greaterOrEqual(0, 2)]])
        let falsifier = Falsifier(network: sumNetwork, specification: spec)
        XCTAssertNil(falsifier.run(deadline: clock.now.advanced(by: .seconds(-1))))
        XCTAssertNil(falsifier.tryPoint([0.95, 0.95], caseIndex: 0, deadline: clock.now.advanced(by: .seconds(-1))))
    }

    func testMismatchedSpecificationFindsNothing() {
        let spec = Specification(inputCount: 3, outputCount: 3, cases: [
            Case(lower: [0, 0, 0], upper: [1, 1, 1], violation: [[]]),
        ])
        XCTAssertNil(Falsifier(network: sumNetwork, specification: spec).run(deadline: later))
    }

    func testAnEmptyConjunctionIsViolatedAnywhere() throws {
        let spec = box2([[]])
        let found = try XCTUnwrap(Falsifier(network: sumNetwork, specification: spec).run(deadline: later))
        XCTAssertEqual(found.input, [0, 0], "the first sample is the box center")
    }

    // MARK: Benchmarks

    /// ACAS Xu network 2_1 violates property 2 (known `sat`).
    func testACASXuProperty2IsFalsified() throws {
        let path = "/work/shared/benchmarks/acasxu/onnx/ACASXU_run2a_2_1_batch_2000.onnx"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(path) is missing") }
        let network = try Network.load(contentsOf: path)
        // prop_2: the box below, and "COC (Y_0) is maximal".
        let spec = Specification(inputCount: 5, outputCount: 5, cases: [
            Case(lower: [0.6, -0.5, -0.5, 0.45, -0.5], upper: [0.679857769, 0.5, 0.5, 0.5, -0.45],
                 violation: [[greaterOrEqual(0, 1), greaterOrEqual(0, 2), greaterOrEqual(0, 3), greaterOrEqual(0, 4)]]),
        ])
        let start = clock.now
        let found = try XCTUnwrap(Falsifier(network: network, specification: spec).run(deadline: later))
        print("ACAS Xu 2_1 prop_2 falsified in \(clock.now - start): \(found.input)")
        assertGenuine(found, network, spec)
    }

    /// The `test_sat` network violates ACAS Xu property 3 as `test_prop.vnnlib` states it.
    func testTestSatIsFalsified() throws {
        let path = "/work/shared/benchmarks/test/onnx/test_sat.onnx"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(path) is missing") }
        let network = try Network.load(contentsOf: path)
        let spec = Specification(inputCount: 5, outputCount: 5, cases: [
            Case(lower: [-0.30353115613746867, -0.009549296585513092, 0.4933803235848431, 0.3, 0.3],
                 upper: [-0.29855281193475053, 0.009549296585513092, 0.49999999998567607, 0.5, 0.5],
                 violation: [[greaterOrEqual(1, 0), greaterOrEqual(2, 0), greaterOrEqual(3, 0), greaterOrEqual(4, 0)]]),
        ])
        let found = try XCTUnwrap(Falsifier(network: network, specification: spec).run(deadline: later))
        assertGenuine(found, network, spec)
    }

    /// Loads a benchmark instance with the real ONNX and VNNLIB readers, or skips.
    private func instance(_ onnx: String, _ vnnlib: String) throws -> (Network, Specification) {
        let root = "/work/shared/benchmarks/"
        for path in [root + onnx, root + vnnlib] where !FileManager.default.fileExists(atPath: path) {
            throw XCTSkip("\(path) is missing")
        }
        return (try Network.load(contentsOf: root + onnx), try VNNLibParser.parse(contentsOf: root + vnnlib))
    }

    func testParsedBenchmarkInstancesAreFalsified() throws {
        for (onnx, vnnlib) in [("acasxu/onnx/ACASXU_run2a_2_1_batch_2000.onnx", "acasxu/vnnlib/prop_2.vnnlib"),
                               ("test/onnx/test_sat.onnx", "test/vnnlib/test_prop.vnnlib"),
                               ("mnistfc/onnx/mnist-net_256x2.onnx", "mnistfc/vnnlib/prop_1_0.05.vnnlib")] {
            let (network, spec) = try instance(onnx, vnnlib)
            let start = clock.now
            let found = try XCTUnwrap(Falsifier(network: network, specification: spec).run(deadline: later), onnx + " " + vnnlib)
            print("falsified \(onnx) \(vnnlib) in \(clock.now - start)")
            assertGenuine(found, network, spec)
            let text = ResultFile.text(verdict: .sat, counterexample: found)
            XCTAssertTrue(text.hasPrefix("sat\n(\n(X_0 "))
        }
    }

    func testKnownUnsatInstanceIsNotFalsified() throws {
        let (network, spec) = try instance("test/onnx/test_unsat.onnx", "test/vnnlib/test_prop.vnnlib")
        let options = FalsificationOptions(randomSamples: 2000, pgdRestarts: 10, pgdSteps: 50, repeatsUntilDeadline: false)
        XCTAssertNil(Falsifier(network: network, specification: spec, options: options).run(deadline: later))
    }

    /// Every known-`sat` instance of the local benchmarks, a few seconds each; slow, so only with
    /// `NNVERIFY_FALSIFIER_SWEEP=1` (best in a release build). Prints how many fall.
    func testSweepKnownSatInstances() throws {
        guard ProcessInfo.processInfo.environment["NNVERIFY_FALSIFIER_SWEEP"] == "1" else {
            throw XCTSkip("set NNVERIFY_FALSIFIER_SWEEP=1 to run the sweep")
        }
        let seconds = Double(ProcessInfo.processInfo.environment["NNVERIFY_FALSIFIER_SECONDS"] ?? "") ?? 10
        let root = "/work/shared/benchmarks/"
        var found = 0, total = 0
        for benchmark in ["test", "acasxu", "mnistfc", "oval21", "mnist_gdvb", "cifar10_resnet"] {
            guard let results = try? String(contentsOfFile: root + benchmark + "/results.csv", encoding: .utf8) else { continue }
            for line in results.split(whereSeparator: \.isNewline).dropFirst() {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard fields.count > 3, fields[3] == "sat" else { continue }
                total += 1
                let start = clock.now
                do {
                    let network = try Network.load(contentsOf: root + benchmark + "/" + fields[0])
                    let spec = try VNNLibParser.parse(contentsOf: root + benchmark + "/" + fields[1])
                    let deadline = start.advanced(by: .milliseconds(Int(seconds * 1000)))
                    if let counterexample = Falsifier(network: network, specification: spec).run(deadline: deadline) {
                        assertGenuine(counterexample, network, spec)
                        found += 1
                        print("SAT   \(benchmark) \(fields[0]) \(fields[1]) in \(clock.now - start)")
                    } else {
                        print("MISS  \(benchmark) \(fields[0]) \(fields[1]) after \(clock.now - start)")
                    }
                } catch {
                    print("ERROR \(benchmark) \(fields[0]) \(fields[1]): \(error)")
                }
            }
        }
        print("falsifier sweep: \(found) of \(total) known-sat instances falsified")
    }

    /// Throughput on an ACAS Xu-sized network (6 × 50 ReLUs), for the log only.
    func testThroughputOnAnACASXuSizedNetwork() {
        let network = FalsifierFixtures.denseNetwork([5, 50, 50, 50, 50, 50, 50, 5], seed: 41)
        let lower = [Double](repeating: -1, count: 5), upper = [Double](repeating: 1, count: 5)
        let bounds = intervalBounds(network, lower: lower, upper: upper)
        let spec = Specification(inputCount: 5, outputCount: 5, cases: [
            Case(lower: lower, upper: upper, violation: [[atLeast(0, bounds.upper[0] + 1)]]),
        ])
        let options = FalsificationOptions(randomSamples: 2000, pgdRestarts: 20, pgdSteps: 50, repeatsUntilDeadline: false)
        let start = clock.now
        XCTAssertNil(Falsifier(network: network, specification: spec, options: options).run(deadline: later))
        let elapsed = clock.now - start
        let passes = 2000 + 20 * 51
        print("falsifier: \(passes) forward passes (and \(20 * 50) backward) in \(elapsed)")
    }

    /// Plain interval propagation (sound up to rounding, which the 1e-9 slack above absorbs).
    private func intervalBounds(_ network: Network, lower: [Double], upper: [Double]) -> (lower: [Double], upper: [Double]) {
        var bounds: [(lower: [Double], upper: [Double])] = []
        for node in network.nodes {
            switch node.operation {
            case .input:
                bounds.append((lower, upper))
            case .dense(let d):
                let x = bounds[node.inputs[0]]
                var l = d.bias, u = d.bias
                for i in 0..<d.weights.rows {
                    for j in 0..<d.weights.columns {
                        let w = d.weights[i, j]
                        l[i] += w * (w >= 0 ? x.lower[j] : x.upper[j])
                        u[i] += w * (w >= 0 ? x.upper[j] : x.lower[j])
                    }
                }
                bounds.append((l, u))
            case .relu:
                let x = bounds[node.inputs[0]]
                bounds.append((x.lower.map { max($0, 0) }, x.upper.map { max($0, 0) }))
            default:
                XCTFail("interval bounds only for dense ReLU networks")
                bounds.append(bounds[node.inputs[0]])
            }
        }
        return bounds[network.output]
    }
}
