import CGLPK
import LPAbstraction
import Network
import VNNLib
import XCTest
@testable import Verifier

/// A small deterministic generator (SplitMix64) so every random instance can be reproduced.
struct SearchTestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ a: Double, _ b: Double) -> Double {
        a + (b - a) * Double(next() >> 11) / Double(1 << 53)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
}

/// A random instance: a dense ReLU network, one input box, and a violation condition in DNF.
struct SearchTestInstance {
    var network: Network
    var specification: Specification
    /// Weights and biases per affine layer, for the brute force.
    var layers: [(w: [[Double]], b: [Double])]

    static func random(seed: UInt64, inputs: Int, hidden: [Int], outputs: Int) -> SearchTestInstance {
        var rng = SearchTestRandom(state: seed)
        var nodes = [Node(operation: .input, inputs: [], shape: [inputs], name: "x")]
        var layers: [(w: [[Double]], b: [Double])] = []
        var width = inputs
        for (k, h) in (hidden + [outputs]).enumerated() {
            let w = (0..<h).map { _ in (0..<width).map { _ in rng.uniform(-1, 1) } }
            let b = (0..<h).map { _ in rng.uniform(-0.5, 0.5) }
            layers.append((w, b))
            nodes.append(Node(operation: .dense(DenseLayer(weights: Matrix(rows: h, columns: width, values: w.flatMap { $0 }), bias: b)),
                              inputs: [nodes.count - 1], shape: [h], name: "dense\(k)"))
            if k < hidden.count {
                nodes.append(Node(operation: .relu, inputs: [nodes.count - 1], shape: [h], name: "relu\(k)"))
            }
            width = h
        }
        let network = Network(nodes: nodes, output: nodes.count - 1)
        let lower = (0..<inputs).map { _ in rng.uniform(-1, 0.5) }
        let upper = lower.map { $0 + rng.uniform(0.1, 1.5) }
        // Thresholds around the outputs at random points of the box, so both verdicts occur.
        var disjuncts: [[LinearConstraint]] = []
        for _ in 0..<rng.int(1...2) {
            var conjunction: [LinearConstraint] = []
            for _ in 0..<rng.int(1...2) {
                let c = (0..<outputs).map { _ in rng.next() % 3 == 0 ? 0 : rng.uniform(-1, 1) }
                let x = zip(lower, upper).map { rng.uniform($0, $1) }
                let y: [Double] = network.evaluate(x)
                let value = zip(c, y).reduce(0) { $0 + $1.0 * $1.1 }
                let terms = c.enumerated().filter { $0.element != 0 }.map { (variable: Variable.output($0.offset), coefficient: $0.element) }
                if terms.isEmpty { continue }
                conjunction.append(LinearConstraint(terms: terms, bound: value - rng.uniform(-0.2, 0.6)))
            }
            if !conjunction.isEmpty { disjuncts.append(conjunction) }
        }
        if disjuncts.isEmpty {
            disjuncts = [[LinearConstraint(terms: [(.output(0), 1)], bound: 0)]]
        }
        let spec = Specification(inputCount: inputs, outputCount: outputs,
                                 cases: [Case(lower: lower, upper: upper, violation: disjuncts)])
        return SearchTestInstance(network: network, specification: spec, layers: layers)
    }

    /// A hard instance: one output constraint whose threshold lies `margin` (relative) beyond or
    /// short of the exact minimum over the box, so only a deep search can tell. Even seeds are
    /// unsat, odd seeds sat.
    static func tight(seed: UInt64, inputs: Int, hidden: [Int], outputs: Int, margin: Double) -> SearchTestInstance {
        var instance = random(seed: seed, inputs: inputs, hidden: hidden, outputs: outputs)
        var rng = SearchTestRandom(state: seed ^ 0xABCD)
        instance.specification.cases[0].lower = instance.specification.cases[0].lower.map { $0 - rng.uniform(0.5, 1.5) }
        instance.specification.cases[0].upper = instance.specification.cases[0].upper.map { $0 + rng.uniform(0.5, 1.5) }
        var c = (0..<outputs).map { _ in rng.uniform(-1, 1) }
        c[0] = 1
        let terms = c.enumerated().map { (variable: Variable.output($0.offset), coefficient: $0.element) }
        instance.specification.cases[0].violation = [[LinearConstraint(terms: terms, bound: 0)]]
        let minimum = instance.bruteForceSlack()
        let delta = margin * max(1, abs(minimum))
        instance.specification.cases[0].violation[0][0].bound = seed % 2 == 0 ? minimum - delta : minimum + delta
        return instance
    }

    /// A robustness-like instance: `alternatives` disjuncts, each one output constraint whose
    /// threshold lies `margin` (relative) short of its exact minimum over the box, except on odd
    /// seeds one of them (chosen by the seed), which lies `margin` beyond it. Even seeds are
    /// unsat, odd seeds sat; only a search that refutes every alternative proves the even ones.
    static func tightAlternatives(seed: UInt64, inputs: Int, hidden: [Int], outputs: Int, alternatives: Int,
                                  margin: Double) -> SearchTestInstance {
        var instance = random(seed: seed, inputs: inputs, hidden: hidden, outputs: outputs)
        var rng = SearchTestRandom(state: seed ^ 0x5EED)
        instance.specification.cases[0].lower = instance.specification.cases[0].lower.map { $0 - rng.uniform(0.5, 1.5) }
        instance.specification.cases[0].upper = instance.specification.cases[0].upper.map { $0 + rng.uniform(0.5, 1.5) }
        let satisfiable = seed % 2 == 1 ? rng.int(0...(alternatives - 1)) : -1
        var disjuncts: [[LinearConstraint]] = []
        for k in 0..<alternatives {
            var c = (0..<outputs).map { _ in rng.uniform(-1, 1) }
            c[k % outputs] = 1
            let terms = c.enumerated().map { (variable: Variable.output($0.offset), coefficient: $0.element) }
            instance.specification.cases[0].violation = [[LinearConstraint(terms: terms, bound: 0)]]
            let minimum = instance.bruteForceSlack()
            let delta = margin * max(1, abs(minimum))
            disjuncts.append([LinearConstraint(terms: terms, bound: k == satisfiable ? minimum + delta : minimum - delta)])
        }
        instance.specification.cases[0].violation = disjuncts
        return instance
    }

    /// The least `t` such that some input of the box satisfies every constraint of some
    /// conjunction with slack `≤ t`, by enumerating every activation pattern (one LP each).
    /// The property is violated iff this is ≤ 0.
    func bruteForceSlack() -> Double {
        let total = layers.dropLast().reduce(0) { $0 + $1.b.count }
        let box = specification.cases[0]
        var best = Double.infinity
        for conjunction in box.violation {
            // Depth-first over the neurons in layer order, pruning partial patterns whose region
            // is already empty (a 2–4-dimensional box meets few of the 2^n patterns).
            func visit(_ pattern: Int, _ fixed: Int) {
                if fixed == total {
                    if let t = patternLP(pattern: pattern, fixed: fixed, conjunction: conjunction,
                                         lower: box.lower, upper: box.upper) { best = min(best, t) }
                    return
                }
                for bit in [0, 1] {
                    let p = pattern | bit << fixed
                    if patternLP(pattern: p, fixed: fixed + 1, conjunction: nil, lower: box.lower, upper: box.upper) != nil {
                        visit(p, fixed + 1)
                    }
                }
            }
            visit(0, 0)
        }
        return best
    }

    /// min t over the inputs with this activation pattern, `c_k·y − b_k ≤ t` for all k; nil if the
    /// pattern's region is empty.
    /// With `conjunction` nil: 0 if the first `fixed` neurons can take the pattern's phases
    /// together (a feasibility check), nil if not.
    private func patternLP(pattern: Int, fixed: Int, conjunction: [LinearConstraint]?, lower: [Double], upper: [Double]) -> Double? {
        let n = lower.count
        // Affine forms (coefficients over x, constant) of each layer's values under the pattern.
        var forms: [([Double], Double)] = (0..<n).map { i in ((0..<n).map { $0 == i ? 1 : 0 }, 0) }
        var rows: [([Double], Double, Bool)] = []  // coefficients, constant, `form ≥ 0` (true) or `≤ 0`
        var bit = 0
        for (k, layer) in layers.enumerated() {
            var next: [([Double], Double)] = []
            for i in layer.b.indices {
                var a = [Double](repeating: 0, count: n)
                var c = layer.b[i]
                for j in forms.indices {
                    for t in 0..<n { a[t] += layer.w[i][j] * forms[j].0[t] }
                    c += layer.w[i][j] * forms[j].1
                }
                next.append((a, c))
            }
            if k < layers.count - 1 {
                for i in next.indices where bit < fixed {
                    let active = pattern >> bit & 1 == 1
                    bit += 1
                    rows.append((next[i].0, next[i].1, active))
                    if !active { next[i] = ([Double](repeating: 0, count: n), 0) }
                }
            }
            forms = next
        }
        let lp = glp_create_prob()
        defer { glp_delete_prob(lp) }
        glp_set_obj_dir(lp, GLP_MIN)
        glp_add_cols(lp, Int32(n + 1))
        for i in 0..<n { glp_set_col_bnds(lp, Int32(i + 1), lower[i] == upper[i] ? GLP_FX : GLP_DB, lower[i], upper[i]) }
        glp_set_col_bnds(lp, Int32(n + 1), GLP_FR, 0, 0)
        if conjunction != nil { glp_set_obj_coef(lp, Int32(n + 1), 1) } else { glp_set_col_bnds(lp, Int32(n + 1), GLP_FX, 0, 0) }
        var ia: [Int32] = [0], ja: [Int32] = [0], ar: [Double] = [0]
        var r: Int32 = 0
        func addRow(_ a: [Double], t: Double, type: Int32, lo: Double, hi: Double) {
            r += 1
            glp_add_rows(lp, 1)
            glp_set_row_bnds(lp, r, type, lo, hi)
            for j in 0..<n where a[j] != 0 { ia.append(r); ja.append(Int32(j + 1)); ar.append(a[j]) }
            if t != 0 { ia.append(r); ja.append(Int32(n + 1)); ar.append(t) }
        }
        for (a, c, active) in rows {
            if active { addRow(a, t: 0, type: GLP_LO, lo: -c, hi: 0) } else { addRow(a, t: 0, type: GLP_UP, lo: 0, hi: -c) }
        }
        for constraint in conjunction ?? [] {
            var a = [Double](repeating: 0, count: n)
            var c = -constraint.bound
            for term in constraint.terms {
                guard case .output(let j) = term.variable else { continue }
                for t in 0..<n { a[t] += term.coefficient * forms[j].0[t] }
                c += term.coefficient * forms[j].1
            }
            // a·x + c − t ≤ 0
            addRow(a, t: -1, type: GLP_UP, lo: 0, hi: -c)
        }
        glp_load_matrix(lp, Int32(ia.count - 1), &ia, &ja, &ar)
        var parm = glp_smcp()
        glp_init_smcp(&parm)
        parm.msg_lev = GLP_MSG_OFF
        parm.presolve = GLP_ON
        guard glp_simplex(lp, &parm) == 0, glp_get_status(lp) == GLP_OPT else { return nil }
        return glp_get_obj_val(lp)
    }
}

final class SearchBruteForceTests: XCTestCase {
    /// Options for tests: no up-front falsifier, so the search itself must find counterexamples.
    static func searchOptions(inputSplitting: Bool) -> SearchOptions {
        var o = SearchOptions()
        o.falsifyMaxSeconds = 0
        o.inputSplitMaxDimension = inputSplitting ? 10 : 0
        return o
    }

    /// Runs random instances through one search mode and compares with brute force: any verdict
    /// that contradicts the truth fails; undecided ones are counted and must stay rare.
    @discardableResult
    func compare(inputSplitting: Bool, count: Int, seedBase: UInt64, threads: Int = 1,
                 layers: ClosedRange<Int> = 1...2, width: ClosedRange<Int> = 2...5) -> SearchStatistics {
        var agree = 0, undecided = 0, skipped = 0
        var total = SearchStatistics()
        for k in 0..<count {
            let seed = seedBase + UInt64(k)
            var rng = SearchTestRandom(state: seed)
            let hidden = (0..<rng.int(layers)).map { _ in rng.int(width) }
            let instance = SearchTestInstance.random(seed: seed, inputs: rng.int(2...4), hidden: hidden, outputs: rng.int(2...3))
            let slack = instance.bruteForceSlack()
            // Too close to the boundary to have a robust answer either way.
            if abs(slack) < 1e-6 { skipped += 1; continue }
            let truth: Verdict = slack <= 0 ? .sat : .unsat
            let result = Verifier.verify(network: instance.network, specification: instance.specification,
                                         options: VerificationOptions(timeout: .seconds(10), threads: threads, seed: 0),
                                         search: Self.searchOptions(inputSplitting: inputSplitting))
            total.merge(result.statistics)
            switch result.verdict {
            case .sat, .unsat:
                XCTAssertEqual(result.verdict, truth, "seed \(seed): verdict \(result.verdict), brute force slack \(slack)")
                if result.verdict == truth { agree += 1 }
                if result.verdict == .sat {
                    XCTAssertNotNil(result.counterexample, "seed \(seed): sat without counterexample")
                }
            case .unknown, .timeout:
                undecided += 1
            }
        }
        print("brute force (\(inputSplitting ? "input splitting" : "ReLU search"), \(threads) threads): agree \(agree), undecided \(undecided), skipped \(skipped) of \(count)")
        print("  nodes \(total.nodes), decisions \(total.decisions), conflicts \(total.conflicts), learned \(total.learnedClauses), LP calls \(total.lpCalls), splits \(total.inputSplits)")
        XCTAssertLessThanOrEqual(undecided, count / 20, "too many undecided instances")
        return total
    }

    func testReLUSearchAgreesWithBruteForce() {
        compare(inputSplitting: false, count: 150, seedBase: 1000)
    }

    /// Deeper networks (up to 14 ReLUs), where the search must branch and learn.
    func testReLUSearchAgreesWithBruteForceOnDeeperNetworks() {
        let stats = compare(inputSplitting: false, count: 40, seedBase: 20000, layers: 2...2, width: 5...7)
        XCTAssertGreaterThan(stats.decisions, 0, "the instances never made the search branch")
        XCTAssertGreaterThan(stats.conflicts, 0)
    }

    func testInputSplittingAgreesWithBruteForceOnDeeperNetworks() {
        let stats = compare(inputSplitting: true, count: 30, seedBase: 30000, layers: 2...2, width: 5...7)
        XCTAssertGreaterThan(stats.inputSplits, 0, "the instances never made the search split")
    }

    /// Thresholds within 2% of the exact minimum on the widest networks: the search must branch,
    /// learn and backjump to settle them.
    func testReLUSearchOnTightInstances() {
        let (total, undecided) = compareTight(search: Self.searchOptions(inputSplitting: false), count: 24)
        XCTAssertEqual(undecided, 0)
        XCTAssertGreaterThan(total.conflicts, 24, "the tight instances should need real search")
        // Both refuters of inner nodes take part: the split multipliers, then the LP.
        XCTAssertGreaterThan(total.splitRefutations, 0)
        XCTAssertGreaterThan(total.innerLPChecks, 0)
        XCTAssertLessThanOrEqual(total.innerLPRefutations, total.innerLPChecks)
    }

    /// The tight instances with every inner-node LP over its budget from the first one on: each
    /// worker falls back to bounds, optimised split multipliers, strong branching and LPs at
    /// leaves. No verdict may contradict brute force. Without the multipliers, bounds alone are
    /// weak this close to the threshold: 3 of these 12 timed out at the 20 s limit (58,131 nodes
    /// in all, 66 s); with them none does (548 nodes, 5.5 s).
    func testReLUSearchWithLPsAtLeavesOnlyOnTightInstances() {
        var search = Self.searchOptions(inputSplitting: false)
        search.slowLPSeconds = 0
        search.slowLPRatio = 0
        let (total, undecided) = compareTight(search: search, count: 12)
        XCTAssertLessThanOrEqual(undecided, 1)
        XCTAssertGreaterThan(total.lpAbandoned, 0, "no LP went over its budget")
        XCTAssertGreaterThan(total.decisions, 12)
        XCTAssertGreaterThan(total.splitRefutations, 0, "the split multipliers never refuted a node")
    }

    /// The tight instances with nodes keeping their ancestor's intermediate bounds from the first
    /// node on whose ancestor's bounds left it open (as on convolutional networks, where a node's
    /// own bounds rarely refute it): nodes are then judged with those bounds, their own phases and
    /// the split multipliers. No verdict may contradict brute force.
    func testReLUSearchKeepingAncestorBoundsOnTightInstances() {
        var search = Self.searchOptions(inputSplitting: false)
        search.ownBoundsWindow = 1
        search.ownBoundsMinimumRefutationRate = 2
        let (total, undecided) = compareTight(search: search, count: 12)
        XCTAssertLessThanOrEqual(undecided, 1)
        XCTAssertGreaterThan(total.ownBoundsUnproductive, 0, "no search switched to its ancestors' bounds")
        XCTAssertGreaterThan(total.parentBoundsKept, 0, "no node kept its ancestor's bounds")
        XCTAssertGreaterThan(total.decisions, 12)
    }

    /// Runs the first `count` tight instances with `search`: every verdict given must match brute
    /// force. Returns the statistics and how many stayed undecided.
    func compareTight(search: SearchOptions, count: Int,
                      file: StaticString = #filePath, line: UInt = #line) -> (SearchStatistics, undecided: Int) {
        var total = SearchStatistics()
        var undecided = 0
        for k in 0..<count {
            let seed = UInt64(40000 + k)
            let instance = SearchTestInstance.tight(seed: seed, inputs: 3, hidden: [8, 8], outputs: 3, margin: 0.02)
            let truth: Verdict = instance.bruteForceSlack() <= 0 ? .sat : .unsat
            XCTAssertEqual(truth, seed % 2 == 0 ? .unsat : .sat)
            let result = Verifier.verify(network: instance.network, specification: instance.specification,
                                         options: VerificationOptions(timeout: .seconds(20), threads: 1, seed: 0),
                                         search: search)
            total.merge(result.statistics)
            if result.verdict == .sat || result.verdict == .unsat {
                XCTAssertEqual(result.verdict, truth, "seed \(seed)", file: file, line: line)
            } else {
                undecided += 1
            }
        }
        print("tight: undecided \(undecided); nodes \(total.nodes), decisions \(total.decisions), conflicts \(total.conflicts), learned \(total.learnedClauses), restarts \(total.restarts), LP calls \(total.lpCalls), LPs abandoned \(total.lpAbandoned), split refutations \(total.splitRefutations), inner LPs \(total.innerLPRefutations)/\(total.innerLPChecks) refuting")
        return (total, undecided)
    }

    /// A problem searched again starts from the clauses its earlier search learned: on an unsat
    /// tight instance the second search repeats none of the first one's tree.
    func testSearchingAgainReusesTheLearnedClauses() {
        let instance = SearchTestInstance.tight(seed: 40000, inputs: 3, hidden: [8, 8], outputs: 3, margin: 0.02)
        XCTAssertGreaterThan(instance.bruteForceSlack(), 0, "seed 40000 is an unsat instance")
        let problem = Problem(specification: instance.specification, caseIndex: 0, disjunctIndex: 0, network: instance.network)
        let propagator = BoundPropagator(network: instance.network)
        func search() -> (SearchOutcome, SearchStatistics) {
            ReLUSearch.run(network: instance.network, specification: instance.specification, problem: problem,
                           options: Self.searchOptions(inputSplitting: false), threads: 1,
                           deadline: .now + .seconds(20), propagator: propagator)
        }
        let (first, firstStats) = search()
        guard case .refuted = first else { return XCTFail("first search: \(first)") }
        XCTAssertGreaterThan(firstStats.conflicts, 1, "the instance should need a search")
        XCTAssertGreaterThan(problem.learnedClauses.count, 0)
        let (second, secondStats) = search()
        guard case .refuted = second else { return XCTFail("second search: \(second)") }
        XCTAssertLessThanOrEqual(secondStats.nodes, 2, "the second search repeated the first one's tree")
    }

    /// Several single-constraint alternatives close to their thresholds, searched as one joint
    /// problem and one by one: both must agree with brute force, and the joint search must
    /// really have run (the alternatives stay open at the root).
    func testJointSearchOfAlternativesAgreesWithBruteForce() {
        // The third run gives each joint search a sliver of its share, so its alternatives are
        // then searched one by one from the clauses it learned.
        for (joint, share) in [(true, 0.3), (false, 0.3), (true, 0.0002)] {
            var search = Self.searchOptions(inputSplitting: false)
            search.jointAlternatives = joint
            search.jointShare = share
            var total = SearchStatistics()
            var undecided = 0
            for k in 0..<12 {
                let seed = UInt64(42000 + k)
                let instance = SearchTestInstance.tightAlternatives(seed: seed, inputs: 3, hidden: [6, 6], outputs: 3,
                                                                    alternatives: 3, margin: 0.03)
                let truth: Verdict = instance.bruteForceSlack() <= 0 ? .sat : .unsat
                XCTAssertEqual(truth, seed % 2 == 0 ? .unsat : .sat, "seed \(seed)")
                let result = Verifier.verify(network: instance.network, specification: instance.specification,
                                             options: VerificationOptions(timeout: .seconds(20), threads: 1, seed: 0),
                                             search: search)
                total.merge(result.statistics)
                if result.verdict == .sat || result.verdict == .unsat {
                    XCTAssertEqual(result.verdict, truth, "seed \(seed), joint \(joint)")
                } else {
                    undecided += 1
                }
            }
            print("alternatives (joint \(joint), share \(share)): undecided \(undecided); joint problems \(total.jointProblems), fallbacks \(total.jointFallbacks), nodes \(total.nodes), conflicts \(total.conflicts)")
            XCTAssertLessThanOrEqual(undecided, 1)
            if share < 0.01 { XCTAssertGreaterThan(total.jointFallbacks, 0, "no joint search ran out of its sliver") }
            if joint {
                XCTAssertGreaterThan(total.jointProblems, 3, "too few instances left several alternatives open at the root")
                XCTAssertGreaterThan(total.conflicts, 10, "the joint searches should need real search")
            } else {
                XCTAssertEqual(total.jointProblems, 0)
            }
        }
    }

    func testInputSplittingAgreesWithBruteForce() {
        compare(inputSplitting: true, count: 100, seedBase: 5000)
    }
}

final class BranchingDepthDecayTests: XCTestCase {
    /// With the decay, the score of a neuron `d` layers past the first layer with an unstable
    /// neuron is divided by `decay^d`: with a huge decay (and the score alone, no strong
    /// branching) the root decision is always in that first layer. Only instances whose plain
    /// choice lies in a later layer say anything, so the test looks for them and needs some.
    func testDepthDecayMovesTheFirstDecisionToTheFirstOpenLayer() {
        var informative = 0
        for seed in UInt64(41000)..<UInt64(41040) {
            let instance = SearchTestInstance.tight(seed: seed, inputs: 3, hidden: [8, 8, 8], outputs: 3, margin: 0.02)
            let problem = Problem(specification: instance.specification, caseIndex: 0, disjunctIndex: 0,
                                  network: instance.network)
            let propagator = BoundPropagator(network: instance.network)
            func rootDecision(decay: Double) -> (decided: Int, firstOpen: Int)? {
                var options = SearchBruteForceTests.searchOptions(inputSplitting: false)
                options.strongBranchingCandidates = 1
                options.branchingDepthDecay = decay
                options.lpAtNodes = false
                let state = SolverState(network: instance.network, problem: problem, specification: instance.specification,
                                        options: options, deadline: .now + .seconds(10), propagator: propagator, pool: nil)
                guard case .open = state.propagate(), let evaluation = state.evaluation,
                      let literal = state.decide() else { return nil }
                let firstOpen = evaluation.bounds.preActivation.firstIndex { b in
                    b.lower.indices.contains { b.lower[$0] < 0 && b.upper[$0] > 0 }
                }!
                return (state.variables.neuron(literal.variable).layer, firstOpen)
            }
            guard let plain = rootDecision(decay: 1), plain.decided > plain.firstOpen else { continue }
            informative += 1
            let decayed = rootDecision(decay: 1e300)
            XCTAssertEqual(decayed?.decided, decayed?.firstOpen, "seed \(seed)")
            XCTAssertEqual(decayed?.firstOpen, plain.firstOpen, "seed \(seed): the decay changed the bounds")
            print("depth decay: seed \(seed) plain layer \(plain.decided), first open \(plain.firstOpen)")
            if informative == 3 { break }
        }
        XCTAssertGreaterThan(informative, 2, "too few instances branch past the first open layer without the decay")
    }
}
