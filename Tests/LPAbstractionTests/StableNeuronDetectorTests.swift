import Foundation
import XCTest
import Network
@testable import LPAbstraction

/// The stable-neuron detector: exact mode against brute force, soundness against sampled inputs,
/// and the stability facts of the shared compression networks.
final class StableNeuronDetectorTests: XCTestCase {
    /// Checks every witness sign in `Float80` (independent of the detector's enclosures) and that
    /// witnesses lie in the box; returns the number of signs checked.
    @discardableResult
    func assertWitnessesHold(_ report: StabilityReport, network: Network, box: Box,
                             file: StaticString = #filePath, line: UInt = #line) -> Int {
        let values: [[[Float80]]] = report.witnesses.map { network.nodeValues($0.map { Float80($0) }) }
        for x in report.witnesses { XCTAssertTrue(box.contains(x), "witness outside the box", file: file, line: line) }
        var checked = 0
        for (layer, relu) in network.reluNodes.enumerated() {
            let p = network.nodes[relu].inputs[0]
            for i in report.classes[layer].indices {
                if let w = report.positiveWitness[layer][i] {
                    XCTAssertGreaterThan(values[w][p][i], 0, "positive witness of n\(layer).\(i)", file: file, line: line)
                    checked += 1
                }
                if let w = report.negativeWitness[layer][i] {
                    XCTAssertLessThan(values[w][p][i], 0, "negative witness of n\(layer).\(i)", file: file, line: line)
                    checked += 1
                }
                if report.classes[layer][i] == .unstable {
                    XCTAssertNotNil(report.positiveWitness[layer][i], file: file, line: line)
                    XCTAssertNotNil(report.negativeWitness[layer][i], file: file, line: line)
                }
            }
        }
        return checked
    }

    /// No neuron called stable is seen in the other phase at any of `points` (`Float80`).
    func assertStableHolds(_ report: StabilityReport, network: Network, points: [[Double]],
                           file: StaticString = #filePath, line: UInt = #line) {
        var failures = 0
        for x in points {
            let values: [[Float80]] = network.nodeValues(x.map { Float80($0) })
            for (layer, relu) in network.reluNodes.enumerated() {
                let v = values[network.nodes[relu].inputs[0]]
                for i in v.indices {
                    let wrong = (report.classes[layer][i] == .active && v[i] < -1e-12)
                        || (report.classes[layer][i] == .inactive && v[i] > 1e-12)
                    if wrong {
                        failures += 1
                        if failures <= 5 {
                            XCTFail("n\(layer).\(i) called \(report.classes[layer][i]) but is \(v[i]) at a sample", file: file, line: line)
                        }
                    }
                }
            }
        }
    }

    /// Every neuron is decided, no class contradicts the exact range `truth` (within 1e-9), and
    /// every range clear of 0 by 1e-6 gets its class; returns how many clear ranges were stable
    /// and unstable.
    @discardableResult
    func assertDecidedAsBruteForce(_ report: StabilityReport, truth: [[(min: Double, max: Double)]], _ what: String,
                                   file: StaticString = #filePath, line: UInt = #line) -> (stable: Int, unstable: Int) {
        var stable = 0, unstable = 0
        for (layer, classes) in report.classes.enumerated() {
            for (i, c) in classes.enumerated() {
                let (low, high) = truth[layer][i]
                let context = "\(what) n\(layer).\(i) range [\(low), \(high)]"
                XCTAssertNotEqual(c, .unknown, context, file: file, line: line)
                switch c {
                case .active: XCTAssertGreaterThanOrEqual(low, -1e-9, context, file: file, line: line)
                case .inactive: XCTAssertLessThanOrEqual(high, 1e-9, context, file: file, line: line)
                case .unstable: XCTAssertTrue(low < 1e-9 && high > -1e-9, context, file: file, line: line)
                case .unknown: break
                }
                if low > 1e-6 || high < -1e-6 {
                    XCTAssertTrue(c == .active || c == .inactive, context, file: file, line: line)
                    stable += 1
                }
                if low < -1e-6 && high > 1e-6 {
                    XCTAssertEqual(c, .unstable, context, file: file, line: line)
                    unstable += 1
                }
            }
        }
        return (stable, unstable)
    }

    func farDeadline(_ seconds: Int = 120) -> ContinuousClock.Instant { .now + .seconds(seconds) }

    // MARK: Tiny networks

    /// Exact mode decides every neuron, and agrees with brute force wherever the exact range keeps
    /// clear of 0; with sampling switched off the LP, MILP and branch-and-bound steps must do all
    /// the work alone.
    func testExactModeMatchesBruteForceOnTinyNetworks() {
        var rng = SplitMix64(seed: 7)
        var stableSeen = 0, unstableSeen = 0
        for trial in 0..<10 {
            let widths = [Int.random(in: 2...4, using: &rng), Int.random(in: 3...5, using: &rng),
                          Int.random(in: 3...5, using: &rng)] + (trial % 3 == 0 ? [3] : []) + [2]
            let network = TestNetworks.randomDense(widths: widths, seed: UInt64(500 + trial))
            guard network.reluCount <= 13 else { continue }
            let box = TestNetworks.randomBox(dimension: widths[0], rng: &rng, width: 0.2...1.2)
            let truth = exactRanges(network, box: box)
            for sampling in [true, false] {
                var detector = StableNeuronDetector(network: network)
                detector.configuration.sampling = sampling
                let report = detector.classify(box: box, mode: .exact, deadline: farDeadline(), seed: UInt64(trial))
                assertWitnessesHold(report, network: network, box: box)
                let seen = assertDecidedAsBruteForce(report, truth: truth, "trial \(trial) sampling \(sampling)")
                stableSeen += seen.stable
                unstableSeen += seen.unstable
            }
        }
        // The comparison means something only if both kinds occur.
        XCTAssertGreaterThan(stableSeen, 10)
        XCTAssertGreaterThan(unstableSeen, 10)
    }

    /// The sound proofs run in many short slices (each resuming its open branches) on 1, 2 and 4
    /// workers: every count decides every neuron the same way, and agrees with brute force. With
    /// sampling and the MILP switched off, the proofs and their LP points do all the deciding.
    /// Also run under ThreadSanitizer (the name matches the CI filter).
    func testParallelProofsInSlicesMatchBruteForce() {
        var rng = SplitMix64(seed: 31)
        var decidedByProofs = 0
        for trial in 0..<5 {
            let widths = [3, 6, 6, 4, 2]
            let network = TestNetworks.randomDense(widths: widths, seed: UInt64(900 + trial))
            let box = TestNetworks.randomBox(dimension: widths[0], rng: &rng, width: 1.0...2.0)
            let truth = exactRanges(network, box: box)
            var reference: [[NeuronStability]]?
            var lpDetector = StableNeuronDetector(network: network)
            lpDetector.configuration.sampling = false
            lpDetector.configuration.attackSteps = 0
            let lpReport = lpDetector.classify(box: box, mode: .lp, deadline: farDeadline(), seed: UInt64(trial))
            for threads in [1, 2, 4] {
                var detector = StableNeuronDetector(network: network)
                detector.configuration.sampling = false
                detector.configuration.attackSteps = 0
                detector.configuration.milpTimeShare = 0
                detector.configuration.threads = threads
                // Slices of microseconds at first: every proof is cut short and resumed many times.
                detector.configuration.certificationFirstPassShare = 1e-7
                let report = detector.classify(box: box, mode: .exact, deadline: farDeadline(), seed: UInt64(trial))
                assertWitnessesHold(report, network: network, box: box)
                assertDecidedAsBruteForce(report, truth: truth, "trial \(trial) threads \(threads)")
                if let reference {
                    XCTAssertEqual(report.classes, reference, "trial \(trial): \(threads) threads classify differently")
                } else {
                    reference = report.classes
                    decidedByProofs += zip(lpReport.classes.joined(), report.classes.joined()).filter { $0 == .unknown && $1 != .unknown }.count
                }
            }
        }
        XCTAssertGreaterThan(decidedByProofs, 6, "LP mode already decided what the proofs did; the test shows little")
    }

    /// A neuron whose stability neither bounds nor one LP can show, but which is in fact stable,
    /// must be proved by the branch-and-bound step (and must not be left unknown).
    func testExactModeProvesStabilityThatBoundsMiss() {
        var rng = SplitMix64(seed: 11)
        var provedBeyondLP = 0
        for trial in 0..<40 where provedBeyondLP < 3 {
            // Deep and narrow, over wide boxes: many unstable neurons feed the last layers, so
            // neither bounds nor a single LP per neuron settle them.
            let network = TestNetworks.randomDense(widths: [2, 3, 3, 3, 3, 1], seed: UInt64(900 + trial))
            let box = TestNetworks.randomBox(dimension: 2, rng: &rng, width: 1.5...3.0)
            var detector = StableNeuronDetector(network: network)
            detector.configuration.sampling = false
            let lpReport = detector.classify(box: box, mode: .lp, deadline: farDeadline(), seed: 1)
            let report = detector.classify(box: box, mode: .exact, deadline: farDeadline(), seed: 1)
            let truth = exactRanges(network, box: box)
            for (layer, classes) in report.classes.enumerated() {
                for (i, c) in classes.enumerated() where c == .active || c == .inactive {
                    let (low, high) = truth[layer][i]
                    XCTAssertTrue(c == .active ? low >= -1e-9 : high <= 1e-9, "trial \(trial) n\(layer).\(i)")
                    if lpReport.classes[layer][i] == .unknown { provedBeyondLP += 1 }
                }
                XCTAssertFalse(classes.contains(.unknown), "trial \(trial)")
            }
        }
        XCTAssertGreaterThan(provedBeyondLP, 0, "no trial needed more than the LP step; the test proves nothing")
    }

    /// The progress callback sees the steps in order, counts that cover every neuron and only
    /// grow in decided neurons, proofs in the certify step, and at the end no more than the report.
    func testProgressFollowsTheStepsAndTheCounts() {
        var rng = SplitMix64(seed: 11)
        var sawProofs = false
        for trial in 0..<40 where !sawProofs {
            let network = TestNetworks.randomDense(widths: [2, 3, 3, 3, 3, 1], seed: UInt64(900 + trial))
            let box = TestNetworks.randomBox(dimension: 2, rng: &rng, width: 1.5...3.0)
            let seen = ProgressRecorder()
            var detector = StableNeuronDetector(network: network)
            detector.configuration.sampling = false
            detector.configuration.progress = { seen.append($0) }
            let report = detector.classify(box: box, mode: .exact, deadline: farDeadline(), seed: 1)
            let events = seen.events
            let neurons = report.classes.reduce(0) { $0 + $1.count }
            let order = ["bounds", "lp", "milp", "certify"]
            XCTAssertEqual(events.first?.step, "bounds", "trial \(trial)")
            XCTAssertEqual(events.map(\.step), events.map(\.step).sorted { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! },
                           "trial \(trial): steps out of order")
            var decided = 0
            for e in events {
                XCTAssertEqual(e.active + e.inactive + e.unstable + e.unknown, neurons, "trial \(trial)")
                XCTAssertGreaterThanOrEqual(e.active + e.inactive + e.unstable, decided, "trial \(trial)")
                decided = e.active + e.inactive + e.unstable
                if e.round > 0 { XCTAssertEqual(e.step, "certify") }
            }
            if let last = events.last {
                XCTAssertLessThanOrEqual(last.active, report.count(.active))
                XCTAssertLessThanOrEqual(last.inactive, report.count(.inactive))
            }
            sawProofs = events.contains { $0.step == "certify" && $0.openProofs > 0 && $0.round == 1 }
        }
        XCTAssertTrue(sawProofs, "no trial reached the proofs; the test shows nothing about them")
    }

    /// The sound branch-and-bound alone, on every neuron and both phases, against brute force:
    /// it proves exactly the phases that hold, and refutes the others with a witness, both in one
    /// go and when cut into slices that each resume the open branches (a branch lost at a cut
    /// would let a false claim pass).
    func testCertifierAgreesWithBruteForce() {
        var rng = SplitMix64(seed: 21)
        var proofs = 0, refutations = 0, branched = 0, resumed = 0
        for trial in 0..<8 {
            let network = TestNetworks.randomDense(widths: [2, 3, 3, 3, 3, 1], seed: UInt64(1300 + trial))
            let box = TestNetworks.randomBox(dimension: 2, rng: &rng, width: 1.5...3.0)
            let propagator = BoundPropagator(network: network)
            let bounds = propagator.bounds(box: box, method: .symbolic)
            let truth = exactRanges(network, box: box)
            for layer in network.reluNodes.indices {
                for i in truth[layer].indices {
                    let (low, high) = truth[layer][i]
                    for goal in [Phase.inactive, .active] {
                        let holds = goal == .inactive ? high <= 0 : low >= 0
                        let clear = goal == .inactive ? Swift.abs(high) > 1e-6 : Swift.abs(low) > 1e-6
                        guard clear else { continue }
                        // In one go, and cut into growing slices that each resume the proof.
                        for sliced in [false, true] {
                            let certifier = StabilityCertifier(network: network, box: box, propagator: propagator, globalBounds: bounds,
                                                               proved: PhaseAssignment(network: network), nodeLimit: 100_000)
                            var book = WitnessBook(propagator: propagator, box: box, layerSizes: network.reluNodes.map { network.nodes[$0].size })
                            let neuron = NeuronID(layer: layer, index: i)
                            var outcome: CertificationOutcome
                            if sliced {
                                let proof = StabilityProof(neuron: neuron, goal: goal, root: PhaseAssignment(network: network))
                                var slices = 0
                                repeat {
                                    slices += 1
                                    outcome = certifier.certify(proof, book: &book, deadline: .now + .microseconds(40 * slices))
                                } while outcome == .timeout && slices < 10_000
                                if slices > 1 { resumed += 1 }
                            } else {
                                outcome = certifier.certify(neuron, goal: goal, book: &book, deadline: farDeadline())
                            }
                            XCTAssertEqual(outcome, holds ? .proved : .refuted,
                                           "trial \(trial) n\(layer).\(i) \(goal) range [\(low), \(high)] sliced \(sliced)")
                            if outcome == .proved { proofs += 1 }
                            if outcome == .refuted { refutations += 1 }
                            if certifier.nodesExplored > 1 { branched += 1 }
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(proofs, 10)
        XCTAssertGreaterThan(refutations, 10)
        XCTAssertGreaterThan(branched, 5, "branch-and-bound never branched; the test proves little")
        XCTAssertGreaterThan(resumed, 10, "no proof was cut short; resumption went untested")
    }

    /// The refutation MILP alone: from an empty witness book, harvesting its solutions refutes
    /// every stability claim that brute force shows false (with a margin above the MILP's).
    func testMILPHarvestRefutesFalseClaims() {
        var rng = SplitMix64(seed: 23)
        var refuted = 0
        for trial in 0..<8 {
            let network = TestNetworks.randomDense(widths: [3, 4, 4, 3, 1], seed: UInt64(1700 + trial))
            let box = TestNetworks.randomBox(dimension: 3, rng: &rng, width: 1.0...2.0)
            let propagator = BoundPropagator(network: network)
            let bounds = propagator.bounds(box: box, method: .symbolic)
            let truth = exactRanges(network, box: box)
            var book = WitnessBook(propagator: propagator, box: box, layerSizes: network.reluNodes.map { network.nodes[$0].size })
            var claims: [StabilityCandidate] = []
            for layer in truth.indices {
                for i in truth[layer].indices {
                    claims.append(StabilityCandidate(neuron: NeuronID(layer: layer, index: i), positive: true))
                    claims.append(StabilityCandidate(neuron: NeuronID(layer: layer, index: i), positive: false))
                }
            }
            var rounds = 0
            while rounds < 200 {
                rounds += 1
                let open = claims.filter { $0.positive ? book.wantPositive[$0.neuron.layer][$0.neuron.index]
                                                       : book.wantNegative[$0.neuron.layer][$0.neuron.index] }
                let milp = StabilityMILP(network: network, box: box, bounds: bounds, assignment: PhaseAssignment(network: network),
                                         candidates: open, margin: 1e-6)
                if milp.solve(deadline: farDeadline(30), onSolution: { book.record($0) > 0 }) != .harvested { break }
            }
            for layer in truth.indices {
                for i in truth[layer].indices {
                    let (low, high) = truth[layer][i]
                    if high > 1e-4 {
                        XCTAssertNotNil(book.positive[layer][i], "trial \(trial) n\(layer).\(i) max \(high)")
                        refuted += 1
                    }
                    if low < -1e-4 {
                        XCTAssertNotNil(book.negative[layer][i], "trial \(trial) n\(layer).\(i) min \(low)")
                        refuted += 1
                    }
                    if high < 0 { XCTAssertNil(book.positive[layer][i]) }
                    if low > 0 { XCTAssertNil(book.negative[layer][i]) }
                }
            }
        }
        XCTAssertGreaterThan(refuted, 20)
    }

    /// Thousands of random points and vertices: no neuron called stable is seen in the other
    /// phase, in every mode, on dense, convolutional and residual networks.
    func testSoundnessOnSampledInputs() {
        var rng = SplitMix64(seed: 3)
        let networks = [TestNetworks.randomDense(widths: [4, 8, 8, 6, 3], seed: 31),
                        TestNetworks.randomConvolutional(seed: 32),
                        TestNetworks.randomResidual(seed: 33)]
        for network in networks {
            let box = TestNetworks.randomBox(dimension: network.inputSize, rng: &rng, width: 0.2...0.8)
            let points = samplePoints(box, count: 3000, rng: &rng)
            for mode in DetectorMode.allCases {
                let report = StableNeuronDetector(network: network).classify(box: box, mode: mode, deadline: farDeadline(60))
                assertStableHolds(report, network: network, points: points + report.witnesses)
                assertWitnessesHold(report, network: network, box: box)
                // Every neuron seen in both phases must not be called stable (checked above), and
                // every pre-activation lies within the reported bounds.
                for x in points.prefix(500) {
                    let values: [[Float80]] = network.nodeValues(x.map { Float80($0) })
                    for (layer, relu) in network.reluNodes.enumerated() {
                        let v = values[network.nodes[relu].inputs[0]], b = report.bounds.preActivation[layer]
                        for i in v.indices {
                            XCTAssertTrue(v[i] >= Float80(b.lower[i]) && v[i] <= Float80(b.upper[i]), "\(mode) n\(layer).\(i)")
                        }
                    }
                }
            }
        }
    }

    /// An expired deadline never yields a stable class that bounds alone did not give, in the
    /// exact mode and in the per-neuron MILP baseline (which then has no witness either: no MILP ran).
    func testExpiredDeadlineLeavesNeuronsUnknown() {
        let network = TestNetworks.randomDense(widths: [3, 6, 6, 2], seed: 77)
        let box = Box(lower: [-1, -1, -1], upper: [1, 1, 1])
        let symbolic = BoundPropagator(network: network).bounds(box: box, method: .symbolic)
        for mode in [DetectorMode.exact, .perNeuronMILP] {
            let report = StableNeuronDetector(network: network).classify(box: box, mode: mode, deadline: .now - .seconds(1))
            for (layer, classes) in report.classes.enumerated() {
                for (i, c) in classes.enumerated() where c == .active || c == .inactive {
                    XCTAssertNotNil(symbolic.stability(of: NeuronID(layer: layer, index: i)), "\(mode)")
                }
                if mode == .perNeuronMILP {
                    XCTAssertFalse(classes.contains(.unstable), "no MILP ran, so no witness exists")
                }
            }
        }
    }

    // MARK: The shared compression networks

    struct SharedFacts {
        let network: Network
        let box: Box
        /// `status[layer][i]` from the `.stability.json` file, mapped to the detector's classes.
        let status: [[NeuronStability]]
    }

    func loadShared(_ name: String) throws -> SharedFacts {
        guard let shared = sharedFolder() else { throw XCTSkip("../shared is absent: the compression facts cannot be checked") }
        let folder = shared.appendingPathComponent("compression")
        let onnx = folder.appendingPathComponent("\(name).onnx").path
        guard FileManager.default.fileExists(atPath: onnx) else { throw XCTSkip("\(onnx) is absent") }
        let network = try Network.load(contentsOf: onnx)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("\(name).stability.json"))) as! [String: Any]
        let status = ["layer1", "layer2"].map { key in
            ((json[key] as! [String: Any])["status"] as! [String]).map { s -> NeuronStability in
                switch s {
                case "active_certified": return .active
                case "inactive_certified": return .inactive
                case "unstable_witnessed": return .unstable
                default: return .unknown
                }
            }
        }
        let n = network.inputSize
        return SharedFacts(network: network, box: Box(lower: [Double](repeating: 0, count: n), upper: [Double](repeating: 1, count: n)),
                           status: status)
    }

    /// Classifies a shared network, compares with its facts file per neuron, and prints the times.
    @discardableResult
    func checkShared(_ name: String, mode: DetectorMode, expected: [(active: Int, unstable: Int)]) throws -> StabilityReport {
        let facts = try loadShared(name)
        let start = ContinuousClock.now
        let report = StableNeuronDetector(network: facts.network).classify(box: facts.box, mode: mode, deadline: farDeadline(300))
        let elapsed = ContinuousClock.now - start
        let steps = report.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value))s" }.joined(separator: ", ")
        print("[detector] \(name) \(mode): \(elapsed) (\(steps)); witnesses \(report.witnesses.count)")
        XCTAssertEqual(report.classes.count, expected.count)
        for (layer, want) in expected.enumerated() {
            XCTAssertEqual(report.count(.active, layer: layer), want.active, "\(name) layer \(layer + 1) active")
            XCTAssertEqual(report.count(.inactive, layer: layer), 0, "\(name) layer \(layer + 1) inactive")
            XCTAssertEqual(report.count(.unstable, layer: layer), want.unstable, "\(name) layer \(layer + 1) unstable")
            XCTAssertEqual(report.classes[layer], facts.status[layer], "\(name) layer \(layer + 1) per-neuron classes differ from the facts file")
        }
        assertWitnessesHold(report, network: facts.network, box: facts.box)
        return report
    }

    func testMNIST100EveryNeuronUnstableInFastMode() throws {
        try checkShared("mnist_fc_100_100", mode: .fast, expected: [(0, 100), (0, 100)])
    }

    func testMNIST200EveryNeuronUnstableInFastMode() throws {
        try checkShared("mnist_fc_200_200", mode: .fast, expected: [(0, 200), (0, 200)])
    }

    func testCIFAR10PrunedFacts() throws {
        for mode in [DetectorMode.fast, .exact] {
            let report = try checkShared("cifar10_fc_400_400_l1_1.75e-4_pruned", mode: mode, expected: [(85, 31), (116, 132)])
            // The two nearly constant neurons that float32 or loose bounds get wrong.
            XCTAssertEqual(report.classes[0][99], .active)
            XCTAssertEqual(report.classes[1][189], .active)
            XCTAssertEqual(report.stablePhases.fixedCount, 85 + 116)
        }
    }

    func testCIFAR100PrunedFacts() throws {
        for mode in [DetectorMode.fast, .exact] {
            let report = try checkShared("cifar100_fc_400_400_l1_7.5e-5_pruned", mode: mode, expected: [(75, 95), (0, 380)])
            XCTAssertEqual(report.classes[0][89], .active)
            // Unstable but nearly dead: a tolerance-based check would wrongly call it stable.
            XCTAssertEqual(report.classes[1][364], .unstable)
            XCTAssertNil(report.stablePhases.phases[1][364])
        }
    }

    /// Random points of the CIFAR-10 box never contradict a stable class.
    func testCIFAR10SoundnessOnRandomInputs() throws {
        let facts = try loadShared("cifar10_fc_400_400_l1_1.75e-4_pruned")
        let report = StableNeuronDetector(network: facts.network).classify(box: facts.box, mode: .fast, deadline: farDeadline())
        var rng = SplitMix64(seed: 5)
        let points = samplePoints(facts.box, count: 300, rng: &rng)
        assertStableHolds(report, network: facts.network, points: points)
    }

    // MARK: The L1-trained digits networks (benchmarks/compression)

    /// Exact mode on the digits networks, which have neurons that neither bounds nor sampling
    /// decide: every neuron is decided, bound-certified neurons stay stable, and every neuron the
    /// facts file witnessed unstable (from its own rigorously checked inputs) is not called stable.
    func testExactModeOnDigitsNetworks() throws {
        var repo = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { repo.deleteLastPathComponent() }
        let folder = repo.appendingPathComponent("benchmarks/compression")
        let names = ["digits_fc_2x100_l1_1e-4", "digits_fc_3x100_l1_2e-4", "digits_fc_3x100_l1_5e-5"]
        var ran = 0
        for name in names {
            let onnx = folder.appendingPathComponent("\(name).onnx").path
            let factsURL = folder.appendingPathComponent("\(name).facts.json")
            guard FileManager.default.fileExists(atPath: onnx), FileManager.default.fileExists(atPath: factsURL.path) else { continue }
            let network = try Network.load(contentsOf: onnx)
            let facts = try JSONSerialization.jsonObject(with: Data(contentsOf: factsURL)) as! [String: Any]
            let layers = facts["layers"] as! [[String: Any]]
            let n = network.inputSize
            let box = Box(lower: [Double](repeating: 0, count: n), upper: [Double](repeating: 1, count: n))
            let start = ContinuousClock.now
            let report = StableNeuronDetector(network: network).classify(box: box, mode: .exact, deadline: farDeadline(600))
            let elapsed = ContinuousClock.now - start
            let steps = report.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3f", $0.value))s" }.joined(separator: ", ")
            let counts = report.classes.indices.map { "\(report.count(.active, layer: $0))/\(report.count(.inactive, layer: $0))/\(report.count(.unstable, layer: $0))/\(report.count(.unknown, layer: $0))" }
            print("[detector] \(name) exact: \(elapsed) (\(steps)); active/inactive/unstable/unknown per layer \(counts)")
            ran += 1
            assertWitnessesHold(report, network: network, box: box)
            XCTAssertEqual(report.count(.unknown), 0, "\(name): exact mode left neurons undecided")
            for (layer, info) in layers.enumerated() {
                for i in info["interval_active_neurons"] as! [Int] { XCTAssertEqual(report.classes[layer][i], .active, "\(name) n\(layer).\(i)") }
                for i in info["interval_inactive_neurons"] as! [Int] { XCTAssertEqual(report.classes[layer][i], .inactive, "\(name) n\(layer).\(i)") }
                for i in info["witnessed_unstable_neurons"] as! [Int] { XCTAssertEqual(report.classes[layer][i], .unstable, "\(name) n\(layer).\(i)") }
            }
            var rng = SplitMix64(seed: 9)
            assertStableHolds(report, network: network, points: samplePoints(box, count: 2000, rng: &rng))
        }
        if ran == 0 { throw XCTSkip("benchmarks/compression has none of \(names)") }
    }
}

/// Collects detector progress events (the callback is `@Sendable`).
final class ProgressRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [DetectorProgress] = []

    func append(_ event: DetectorProgress) {
        lock.lock()
        recorded.append(event)
        lock.unlock()
    }

    var events: [DetectorProgress] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}
