import LPAbstraction

/// What propagation and the theory check found at the current node.
enum PropagationOutcome {
    case conflict(Conflict)
    case counterexample(Counterexample)
    case timeout
    /// No conflict: the node stays open and needs a decision.
    case open
}

extension SolverState {
    /// Unit propagation over the learned clauses, then bounds under the assignment: every neuron
    /// the bounds find stable becomes an implied literal (which may make more clauses unit, so the
    /// two alternate until nothing changes). Then the theory check (`Check.swift`) on the result.
    func propagate() -> PropagationOutcome {
        let clock = Stopwatch()
        var evaluation: Theory.Evaluation
        while true {
            if let c = clauses.propagate(&trail, implied: &stats.propagations) {
                stats.propagateSeconds += clock.seconds
                return .conflict(.clause(c))
            }
            stats.nodes += 1
            evaluation = theory.evaluate(box: problem.box, assignment: trail.assignment)
            if evaluation.refuted {
                stats.propagateSeconds += clock.seconds
                return .conflict(theoryConflict(certificate: nil))
            }
            var implied = 0
            for layer in 0..<variables.layerCount {
                let b = evaluation.bounds.preActivation[layer]
                for i in b.lower.indices {
                    let v = variables.offsets[layer] + i
                    guard trail.value[v] == nil else { continue }
                    let phase: Phase
                    if b.lower[i] >= 0 { phase = .active } else if b.upper[i] <= 0 { phase = .inactive } else { continue }
                    trail.assign(Literal(variable: v, phase: phase), reason: trail.decisionLevel == 0 ? .fact : .bounds)
                    implied += 1
                }
            }
            stats.propagations += implied
            let before = trail.count
            if let c = clauses.propagate(&trail, implied: &stats.propagations) {
                stats.propagateSeconds += clock.seconds
                return .conflict(.clause(c))
            }
            // Clause-implied phases change the bounds only if new ones appeared.
            if trail.count == before { break }
        }
        self.evaluation = evaluation
        stats.propagateSeconds += clock.seconds
        return check(evaluation)
    }

    /// The conflict for a theory refutation: the literals an infeasibility certificate names when
    /// they are few and a re-check confirms they suffice, else every decision on the trail (the
    /// bounds depend on all of them).
    func theoryConflict(certificate: [NeuronID]?) -> Conflict {
        let decisions = trail.decisions(upTo: trail.decisionLevel)
        guard let certificate, options.verifyCertificates else { return .literals(decisions) }
        let clock = Stopwatch()
        defer { stats.analyzeSeconds += clock.seconds }
        var subset: [Literal] = []
        for n in certificate {
            let v = variables.variable(n)
            guard let p = trail.value[v] else { return .literals(decisions) }
            if trail.reason[v] != .fact { subset.append(Literal(variable: v, phase: p)) }
        }
        // Only worth a second solve when it would cut the clause down.
        guard subset.count < decisions.count else { return .literals(decisions) }
        if refutesSubset(subset) { return .literals(subset) }
        return .literals(decisions)
    }

    /// Whether the theory refutes the facts together with `literals` alone (a fresh, sound check;
    /// this is what makes a certificate's small conflict set safe to learn).
    func refutesSubset(_ literals: [Literal]) -> Bool {
        var assignment = PhaseAssignment(network: network)
        for l in trail.literals where trail.reason[l.variable] == .fact { assignment[variables.neuron(l.variable)] = l.phase }
        for l in literals { assignment[variables.neuron(l.variable)] = l.phase }
        let evaluation = theory.evaluate(box: problem.box, assignment: assignment)
        if evaluation.refuted { return true }
        guard options.lpAtNodes else { return false }
        switch theory.lpCheck(box: problem.box, evaluation: evaluation, assignment: assignment,
                              deadline: deadline, lpCalls: &stats.lpCalls) {
        case .refuted: return true
        case .candidate, .timeout, .unavailable: return false
        }
    }
}
