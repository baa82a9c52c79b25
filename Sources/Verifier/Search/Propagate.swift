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
            options.progress?.countNode()
            let boundClock = Stopwatch()
            evaluation = theory.evaluate(box: problem.box, assignment: trail.assignment, parent: nearestBounds(),
                                         optimizingSplits: options.splitMultipliersBeforeLP || !lpAtInnerNodes,
                                         warmStart: nearestSplitOptimum(), keepingParentBounds: ownBoundsUnproductive)
            lastBoundSeconds = boundClock.seconds
            stats.optimizerSteps += evaluation.optimizerSteps
            if let optimum = evaluation.splitOptimum { splitOptimumAtLevel[trail.decisionLevel] = optimum }
            if evaluation.computedOwnBoundsAfterParent { noteOwnBounds(refuted: evaluation.refuted) }
            if evaluation.refuted {
                if evaluation.refutedBySplits { stats.splitRefutations += 1 }
                if evaluation.refutedByParentBounds { stats.parentBoundRefutations += 1 }
                stats.propagateSeconds += clock.seconds
                return .conflict(theoryConflict(certificate: nil))
            }
            // Kept bounds stay at the level that computed them: the next nodes below find them
            // there, and a level holds only bounds computed under its own assignment.
            if evaluation.keptParentBounds {
                stats.parentBoundsKept += 1
            } else {
                boundsAtLevel[trail.decisionLevel] = (trail.assignment, evaluation.bounds, evaluation.refutedConstraints)
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

    /// Records whether a node's own intermediate bounds, computed after its ancestor's left it
    /// open, refuted it. Where they rarely do, the ancestor's are as good and far cheaper: once
    /// ``SearchOptions/ownBoundsWindow`` such nodes refuted less than
    /// ``SearchOptions/ownBoundsMinimumRefutationRate`` of the time, nodes keep their ancestor's.
    func noteOwnBounds(refuted: Bool) {
        ownBounds.record(refuted: refuted)
        stats.ownBoundChecks += 1
        if refuted { stats.ownBoundRefutations += 1 }
        if !ownBoundsUnproductive,
           ownBounds.fallsShort(of: options.ownBoundsMinimumRefutationRate, after: options.ownBoundsWindow) {
            ownBoundsUnproductive = true
            stats.ownBoundsUnproductive += 1
        }
    }

    /// The bounds last computed at the deepest decision level at or above the current one, and
    /// the constraints refuted there: the current node's region lies inside theirs (the trail
    /// only grew since).
    func nearestBounds() -> (assignment: PhaseAssignment, bounds: NetworkBounds, refuted: [Bool])? {
        nearest(boundsAtLevel)
    }

    /// The split optimum last found at the deepest decision level at or above the current one.
    func nearestSplitOptimum() -> Theory.SplitOptimum? {
        nearest(splitOptimumAtLevel)
    }

    private func nearest<Entry>(_ perLevel: [Int: Entry]) -> Entry? {
        for level in stride(from: trail.decisionLevel, through: 0, by: -1) {
            if let entry = perLevel[level] { return entry }
        }
        return nil
    }

    /// The conflict for a theory refutation. The bounds at a node depend on every decision, so the
    /// safe conflict is the whole decision path; it is then shrunk by re-checking: the literals an
    /// infeasibility certificate names, and decision sets with chunks of the oldest decisions
    /// left out, are each checked afresh (bounds, then LP) with nothing else assigned but the
    /// facts. Whatever a fresh check refutes is a sound conflict, and a smaller one lets analysis
    /// backjump past the decisions that did not matter.
    func theoryConflict(certificate: [NeuronID]?) -> Conflict {
        var conflict = trail.decisions(upTo: trail.decisionLevel)
        guard options.verifyCertificates || options.minimizeChecks > 0 else { return .literals(conflict) }
        let clock = Stopwatch()
        defer { stats.analyzeSeconds += clock.seconds }
        var budget = options.minimizeChecks
        if let certificate, options.verifyCertificates {
            var subset: [Literal] = []
            var usable = true
            for n in certificate {
                let v = variables.variable(n)
                guard let p = trail.value[v] else { usable = false; break }
                if trail.reason[v] != .fact { subset.append(Literal(variable: v, phase: p)) }
            }
            if usable, subset.count < conflict.count, refutesSubset(subset) { conflict = subset }
        }
        // Drop chunks of the oldest literals (never the newest: the node's parent was open).
        conflict.sort { trail.level[$0.variable] < trail.level[$1.variable] }
        var chunk = max(1, (conflict.count - 1) / 2)
        var start = 0
        while budget > 0, conflict.count >= 2 {
            if start >= conflict.count - 1 {
                if chunk == 1 { break }
                chunk = max(1, chunk / 2)
                start = 0
                continue
            }
            let end = min(start + chunk, conflict.count - 1)
            let candidate = Array(conflict[..<start] + conflict[end...])
            budget -= 1
            if refutesSubset(candidate) { conflict = candidate } else { start = end }
        }
        return .literals(conflict)
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
