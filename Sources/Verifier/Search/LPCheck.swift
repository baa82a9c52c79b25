import LPAbstraction

/// What the LP says about a region under an assignment.
enum LPCheckResult {
    /// No point of the region satisfies the conjunction. `conflict` lists the fixed phases the
    /// infeasibility certificate names, when there is one (a candidate for a small learned clause;
    /// conflict analysis verifies it before use).
    case refuted(conflict: [NeuronID]?)
    /// The LP optimum: an input worth running the real network on, and per ReLU variable (in
    /// ``VariableMap`` order) how far the LP's ReLU output lies above the real ReLU of its
    /// pre-activation there, `y − max(x, 0)`: what the relaxation, not the network, contributes.
    case candidate(input: [Double], relaxationGap: [Double])
    /// The deadline passed during the solve.
    case timeout
    /// No LP available (not built, or GLPK failed): decide by bounds and branching alone.
    case unavailable
}

/// The worker's LP and the box it was built for (a new box needs a new LP).
private final class LPHolder {
    let relaxation: LPRelaxation
    let box: Box

    init(relaxation: LPRelaxation, box: Box) {
        self.relaxation = relaxation
        self.box = box
    }
}

extension Theory {
    /// The LP for `box` under `assignment` with the conjunction's constraints: the worker's
    /// existing one updated in place (warm start) when the box is the same, else a new one.
    /// Nil when it cannot be built (e.g. unbounded variables); nothing is concluded then.
    func relaxation(box: Box, bounds: NetworkBounds, assignment: PhaseAssignment?) -> LPRelaxation? {
        let assignment = assignment ?? PhaseAssignment(network: network)
        // An LP that GLPK broke (``LPRelaxation/isBroken``) is replaced by a fresh one.
        if let holder = lpState as? LPHolder, holder.box == box, !holder.relaxation.isBroken {
            holder.relaxation.update(bounds: bounds, assignment: assignment)
            return holder.relaxation
        }
        // The neurons stably inactive over the whole box are left out of the LP; at a node deep in
        // the search the node's bounds would leave out neurons that are live elsewhere in the box.
        let boxBounds = assignment.phases.allSatisfy({ $0.allSatisfy { $0 == nil } })
            ? bounds : self.bounds(box: box, assignment: nil)
        guard let lp = try? LPRelaxation(network: network, box: box, bounds: bounds, assignment: assignment,
                                         boxBounds: boxBounds) else {
            // The reasons it throws (non-finite bounds, mismatched shapes) hold for every node of
            // this problem: stop asking, and let bounds and branching do the work.
            lpUnavailable = true
            return nil
        }
        // A joint problem's alternatives are not convex together: its LP holds the box and the
        // network only, and ``lpCheck`` minimises each alternative in turn.
        if !problem.constraintsAreAlternatives {
            for c in problem.outputConstraints { lp.addOutputConstraint(coefficients: c.coefficients, rhs: c.rhs) }
        }
        for c in problem.inputConstraints { lp.addInputConstraint(coefficients: c.coefficients, rhs: c.rhs) }
        lpState = LPHolder(relaxation: lp, box: box)
        return lp
    }

    /// Solves the LP with every constraint of the conjunction, minimising the left-hand side of
    /// the constraint the bounds found closest to refutation: infeasible (with its certificate)
    /// or a sound minimum that still violates that constraint refutes; otherwise the optimum is a
    /// candidate. A joint problem's LP minimises each alternative the bounds left open, the
    /// furthest from refutation first (the likeliest to hold a violation, and the one that keeps
    /// an open node open after a single LP): refuted when every minimum refutes, else the first
    /// optimum that does not is the candidate.
    func lpCheck(box: Box, evaluation: Evaluation, assignment: PhaseAssignment?,
                 deadline: ContinuousClock.Instant, lpCalls: inout Int) -> LPCheckResult {
        guard let lp = relaxation(box: box, bounds: evaluation.bounds, assignment: assignment) else { return .unavailable }
        if let startBasis {
            lp.restore(startBasis)
            self.startBasis = nil
        }
        let objectives: [Problem.OutputConstraint?]
        if problem.constraintsAreAlternatives {
            let open = problem.outputConstraints.indices.filter { !evaluation.refutedConstraints[$0] }
            objectives = open.sorted { evaluation.margins[$0] < evaluation.margins[$1] }.map { problem.outputConstraints[$0] }
        } else {
            objectives = [problem.outputConstraints.isEmpty ? nil : problem.outputConstraints[evaluation.focusConstraint]]
        }
        for objective in objectives {
            lpCalls += 1
            let coefficients = objective?.coefficients ?? [Double](repeating: 0, count: network.outputSize)
            switch lp.minimize(outputCoefficients: coefficients, deadline: deadline) {
            case .optimal(let value, let input):
                if let objective, Problem.refutes(lower: value, objective) { continue }
                var gap: [Double] = []
                for relu in network.reluNodes {
                    let x = lp.primalValues(ofNode: network.nodes[relu].inputs[0])
                    let y = lp.primalValues(ofNode: relu)
                    for i in x.indices { gap.append(max(0, y[i] - max(x[i], 0))) }
                }
                return .candidate(input: input, relaxationGap: gap)
            case .infeasible(let conflict):
                return .refuted(conflict: conflict)
            case .timeout:
                return .timeout
            case .failed:
                return .unavailable
            }
        }
        return .refuted(conflict: nil)
    }

    /// The current basis of the worker's LP, `nil` before there is one.
    func lpBasis() -> LPRelaxation.Basis? {
        (lpState as? LPHolder)?.relaxation.basis()
    }

    /// LP bound tightening: for each candidate `(neuron, phase)`, tries to prove the neuron
    /// stable in that phase over the region (minimising its pre-activation to show it ≥ 0, or
    /// maximising to show it ≤ 0), until the deadline. The LP includes the conjunction's
    /// constraints, so "stable" means stable wherever the conjunction can hold — all the search
    /// needs. Returns the proved phases.
    func lpTighten(box: Box, bounds: NetworkBounds, assignment: PhaseAssignment?, candidates: [(NeuronID, Phase)],
                   deadline: ContinuousClock.Instant, lpCalls: inout Int) -> [(NeuronID, Phase)] {
        guard !candidates.isEmpty, let lp = relaxation(box: box, bounds: bounds, assignment: assignment) else { return [] }
        var proved: [(NeuronID, Phase)] = []
        for (neuron, phase) in candidates {
            if ContinuousClock.now >= deadline { break }
            lpCalls += 1
            switch lp.minimize(preActivationOf: neuron, maximize: phase == .inactive, deadline: deadline) {
            case .optimal(let value, _):
                if phase == .active ? value >= 0 : value <= 0 { proved.append((neuron, phase)) }
            case .infeasible:
                // The region is empty: every phase holds vacuously.
                proved.append((neuron, phase))
            case .timeout:
                return proved
            case .failed:
                continue
            }
        }
        return proved
    }
}
