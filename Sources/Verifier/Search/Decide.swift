import Foundation
import LPAbstraction
import Network

extension SolverState {
    /// Picks the next branching literal: among the neurons the current bounds leave unstable, the
    /// one with the largest score. When the node's LP ran, the score is the neuron's relaxation
    /// gap at the LP optimum, `y − max(x, 0)` (MILP's "most infeasible" rule: exactly the neurons
    /// whose relaxation lets the LP reach the violation), times a static estimate of its influence
    /// on the objective. Without an LP at the node (LPs too slow, as on the CIFAR-10 networks)
    /// it is BaBSR's estimate from the back-substitution multipliers of the focus constraint
    /// (``BranchingPass/babsrScores``): the static
    /// influence spreads a convolution's weight evenly and cannot tell one position from another.
    /// oval21, one thread, 60 s: cifar_wide_kw img4720 unsat in 7 s instead of 23 s (both with the
    /// root's slopes at every node), cifar_base_kw img5303 22 s instead of a timeout. The triangle
    /// area times the static influence is left for an empty conjunction. All are scaled by
    /// conflict activity, and divided by ``SearchOptions/branchingDepthDecay`` per layer past the
    /// first layer with an unstable neuron. The best few by score then go through filtered smart
    /// branching (``strongBranchingChoice(_:evaluation:)``).
    /// The phase follows the last candidate point (phase saving), else the larger side of the
    /// interval. Returns nil when no neuron is unstable: the region is linear under the assignment.
    func decide() -> Literal? {
        let clock = Stopwatch()
        defer { stats.decideSeconds += clock.seconds }
        guard let evaluation else { return nil }
        var candidates: [BranchingCandidate] = []
        // Without an LP the scores need the focus constraint's pass; strong branching reuses it.
        let pass = relaxationGap == nil ? branchingPass(evaluation) : nil
        let babsr = pass?.babsrScores ?? []
        for layer in 0..<variables.layerCount {
            let b = evaluation.bounds.preActivation[layer]
            for i in b.lower.indices {
                let v = variables.offsets[layer] + i
                let (l, u) = (b.lower[i], b.upper[i])
                guard trail.value[v] == nil, l < 0, u > 0 else { continue }
                let area = -l * u / (u - l)
                let local: Double
                if let gap = relaxationGap {
                    local = (gap[v] + 1e-9 * area) * importance[v]
                } else if !babsr.isEmpty {
                    local = babsr[layer][i] + 1e-9 * area
                } else {
                    local = area * importance[v]
                }
                let score = local * (1 + activity[v])
                candidates.append(BranchingCandidate(variable: v, layer: layer, score: score, l: l, u: u))
            }
        }
        // Candidates come layer by layer, so the first is in the first layer with one.
        guard let firstLayer = candidates.first?.layer else { return nil }
        if options.branchingDepthDecay > 1 {
            for i in candidates.indices {
                candidates[i].score /= pow(options.branchingDepthDecay, Double(candidates[i].layer - firstLayer))
            }
        }
        let best = strongBranchingChoice(candidates, evaluation: evaluation, pass: pass)
        let phase = savedPhase[best.variable] ?? (best.u >= -best.l ? .active : .inactive)
        stats.decisions += 1
        if stats.decisionsPerLayer.isEmpty {
            stats.decisionsPerLayer = [Int](repeating: 0, count: variables.layerCount)
        }
        stats.decisionsPerLayer[best.layer] += 1
        return Literal(variable: best.variable, phase: phase)
    }

    /// An unstable neuron the heuristic scored, with its pre-activation bounds at the node.
    struct BranchingCandidate {
        var variable: Int
        /// The neuron's ReLU layer.
        var layer: Int
        var score: Double
        var l: Double
        var u: Double
    }

    /// Filtered smart branching (FSB, De Palma et al. 2021; alpha-beta-CROWN's default): of the
    /// ``SearchOptions/strongBranchingCandidates`` best-scored neurons, the one whose worse child
    /// has the best bound on the conjunction's single output constraint (the usual
    /// robustness disjunct; a conjunction of several keeps the score alone), or on the joint
    /// problem's focus (the alternative the node could not refute). A child's bound is the
    /// back-substitution with the node's intermediate bounds and the neuron's phase fixed,
    /// estimated from the node's own pass (shared with the BaBSR scores) and one multi-row pass
    /// per ReLU layer below the candidates' (``BranchingPass/childEstimates(splits:)``), and no
    /// LP. The score ranks by how loose a neuron's relaxation is where the LP went; the child
    /// bounds measure what a split buys the objective. mnistfc 256x4 prop_0_0.03, one thread: unsat with 2,788 nodes in 81.5 s by the
    /// score alone, 678 nodes in 14.6 s with 8 candidates; 256x2 within noise.
    func strongBranchingChoice(_ candidates: [BranchingCandidate], evaluation: Theory.Evaluation,
                               pass: BranchingPass?) -> BranchingCandidate {
        // One constraint's bound is a poor proxy where the LP refutes a conjunction through its
        // combination: ACAS Xu 3_3 prop_2 (four constraints) needed 10× the decisions with it.
        guard options.strongBranchingCandidates > 1, candidates.count > 1,
              problem.outputConstraints.count == 1 || problem.constraintsAreAlternatives else {
            return candidates.max { $0.score < $1.score }!
        }
        let filtered = Array(candidates.sorted { $0.score > $1.score }.prefix(options.strongBranchingCandidates))
        guard var pass = pass ?? branchingPass(evaluation) else { return filtered[0] }
        let children = pass.childEstimates(splits: filtered.map { variables.neuron($0.variable) })
        var best = filtered[0], bestWorseChild = -Double.infinity
        for (candidate, bounds) in zip(filtered, children) where min(bounds.active, bounds.inactive) > bestWorseChild {
            (best, bestWorseChild) = (candidate, min(bounds.active, bounds.inactive))
        }
        return best
    }

    /// The back-substitution of the node's focus constraint that both branching heuristics read;
    /// nil without output constraints or when the node's region is empty.
    func branchingPass(_ evaluation: Theory.Evaluation) -> BranchingPass? {
        guard !problem.outputConstraints.isEmpty else { return nil }
        return theory.propagator.branchingPass(
            outputCoefficients: problem.outputConstraints[evaluation.focusConstraint].coefficients,
            box: problem.box, assignment: trail.assignment, bounds: evaluation.bounds)
    }

    /// Bumps the activity of a learned clause's variables (VSIDS): neurons that keep appearing in
    /// conflicts are branched on earlier after a restart.
    func bumpActivity(_ clause: [Literal]) {
        for l in clause { activity[l.variable] += activityIncrement }
        activityIncrement /= options.activityDecay
        if activityIncrement > 1e100 {
            for v in activity.indices { activity[v] *= 1e-100 }
            activityIncrement *= 1e-100
        }
    }
}

/// Static estimates of each neuron's influence on the objective.
enum Importance {
    /// Back-propagates `|c|` of the hardest-looking output constraint through `|W|` (dense layers;
    /// other nodes pass it on unchanged or, for convolutions, spread it evenly): a cheap stand-in for
    /// the back-substitution coefficients BaBSR uses, normalised to mean 1 per layer.
    static func estimate(network: Network, problem: Problem, variables: VariableMap) -> [Double] {
        var result = [Double](repeating: 1, count: variables.count)
        guard network.nodes[network.output].size == network.outputSize else { return result }
        var c = [Double](repeating: 0, count: network.outputSize)
        for constraint in problem.outputConstraints {
            for j in c.indices { c[j] += abs(constraint.coefficients[j]) }
        }
        if c.allSatisfy({ $0 == 0 }) { return result }
        var weight = [[Double]?](repeating: nil, count: network.nodes.count)
        weight[network.output] = c
        for k in stride(from: network.nodes.count - 1, through: 1, by: -1) {
            guard let w = weight[k] else { continue }
            let node = network.nodes[k]
            func add(_ input: Int, _ value: [Double]) {
                if let old = weight[input] { weight[input] = zip(old, value).map(+) } else { weight[input] = value }
            }
            switch node.operation {
            case .input: break
            case .dense(let d):
                var x = [Double](repeating: 0, count: d.weights.columns)
                for i in 0..<d.weights.rows where w[i] != 0 {
                    for j in 0..<d.weights.columns { x[j] += w[i] * abs(d.weights[i, j]) }
                }
                add(node.inputs[0], x)
            case .convolution:
                let total = w.reduce(0, +)
                let n = network.nodes[node.inputs[0]].size
                add(node.inputs[0], [Double](repeating: total / Double(max(n, 1)), count: n))
            case .elementwiseAffine(let scale, _):
                add(node.inputs[0], zip(w, scale).map { $0 * abs($1) })
            case .add:
                add(node.inputs[0], w)
                add(node.inputs[1], w)
            case .relu:
                add(node.inputs[0], w)
            }
        }
        for (layer, relu) in network.reluNodes.enumerated() {
            guard let w = weight[relu] else { continue }
            let mean = w.reduce(0, +) / Double(max(w.count, 1))
            guard mean > 0 else { continue }
            for i in w.indices { result[variables.offsets[layer] + i] = 0.05 + w[i] / mean }
        }
        return result
    }
}
