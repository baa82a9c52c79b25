import LPAbstraction

extension SolverState {
    /// Whether the search has stalled long enough to pay for stabilization, and the base
    /// assignment changed since a round proved nothing (``fruitlessStabilizationBase``).
    var stabilizeDue: Bool {
        guard !theory.lpUnavailable, !lpTooSlow, conflictsSinceStabilize >= options.stabilizeAfterConflicts else { return false }
        if let fruitless = fruitlessStabilizationBase, fruitless.literals == trail.count, fruitless.cube == cube { return false }
        return true
    }

    /// VeriStable's stabilization, at the base level: LP-tighten the unstable neurons closest to
    /// being stable (smallest `closenessToStable`, `min(−l, u)/(u − l)`), under a time budget.
    /// Each neuron the LP proves stable becomes a clause — `phase ∨ ¬assumptions` (a unit fact at
    /// level 0) — published to every worker. Returns false when a new fact refutes the cube.
    func stabilize() -> Bool {
        conflictsSinceStabilize = 0
        guard trail.decisionLevel == baseLevel, let evaluation else { return true }
        let clock = Stopwatch()
        defer { stats.stabilizeSeconds += clock.seconds }
        stats.stabilizations += 1
        var candidates: [(neuron: NeuronID, phase: Phase, closeness: Double)] = []
        for layer in 0..<variables.layerCount {
            let b = evaluation.bounds.preActivation[layer]
            for i in b.lower.indices where b.lower[i] < 0 && b.upper[i] > 0 {
                guard trail.value[variables.offsets[layer] + i] == nil else { continue }
                let (l, u) = (b.lower[i], b.upper[i])
                // The side that is nearly empty is the phase we try to prove.
                let phase: Phase = u < -l ? .inactive : .active
                candidates.append((NeuronID(layer: layer, index: i), phase, b.closenessToStable(i)))
            }
        }
        candidates.sort { $0.closeness < $1.closeness }
        let budget = max(0, (deadline - ContinuousClock.now).inSeconds) * options.stabilizeTimeShare
        let stop = min(deadline, ContinuousClock.now + .milliseconds(Int64(budget * 1000)))
        let proved = theory.lpTighten(box: problem.box, bounds: evaluation.bounds, assignment: trail.assignment,
                                      candidates: candidates.prefix(options.stabilizeNeurons).map { ($0.neuron, $0.phase) },
                                      deadline: stop, lpCalls: &stats.lpCalls)
        stats.stabilizedNeurons += proved.count
        if proved.isEmpty, ContinuousClock.now < stop { fruitlessStabilizationBase = (cube, trail.count) }
        let context = trail.decisions(upTo: baseLevel).map(\.negated)
        for (neuron, phase) in proved {
            let literal = Literal(variable: variables.variable(neuron), phase: phase)
            let clause = [literal] + context
            stats.learnedClauses += 1
            shared.publish(clause)
            knownClauses.insert(clause.sorted())
            if !addClauseAtBase(clause) { return false }
        }
        if !proved.isEmpty { self.evaluation = nil }
        return true
    }
}

extension LayerBounds {
    /// How close unstable value `i` is to being stable: `min(−l, u)/(u − l)`, the share of its
    /// interval on the smaller side of zero (near 0: nearly stable; 0.5: split evenly).
    /// Stabilization and the up-front LP tightening (``Theory/tightenRoot(deadline:lpCalls:)``)
    /// tighten the smallest first, the neurons an LP is likeliest to prove stable.
    func closenessToStable(_ i: Int) -> Double {
        min(-lower[i], upper[i]) / (upper[i] - lower[i])
    }
}
