import LPAbstraction

extension SolverState {
    /// The DPLL(T) loop over one cube (a list of assumed phases; empty for the whole problem):
    /// propagate → (conflict: analyze, learn, backjump) | (open: restart? stabilize? donate?
    /// decide) until the cube is refuted, a counterexample is found, or time runs out.
    func solve(cube: [Literal]) -> SearchOutcome {
        backtrack(to: 0)
        baseLevel = 0
        self.cube = cube
        for u in units {
            switch trail.truth(u) {
            case nil: trail.assign(u, reason: .fact)
            case false?: return finished()
            case true?: break
            }
        }
        guard importSharedClauses() else { return finished() }

        // The cube's assumptions, each on its own level, with propagation after each so that
        // the facts of level 0 are found before any assumption is made.
        var outcome = propagate()
        for a in cube {
            if case .open = outcome {} else { break }
            switch trail.truth(a) {
            case true?: continue
            case false?: return finished()
            case nil:
                trail.newLevel()
                trail.assign(a, reason: .assumption)
                outcome = propagate()
            }
        }
        baseLevel = trail.decisionLevel

        while true {
            switch outcome {
            case .counterexample(let ce):
                return .counterexample(ce)
            case .timeout:
                return .timeout
            case .conflict(let conflict):
                stats.conflicts += 1
                options.progress?.countConflict()
                conflictsSinceRestart += 1
                conflictsSinceStabilize += 1
                guard let (clause, level) = analyze(conflict) else { return finished() }
                learn(clause, level: level)
                outcome = propagate()
                continue
            case .open:
                break
            }
            if isPastDeadline { return .timeout }
            if restartDue {
                guard restart() else { return finished() }
                outcome = propagate()
                if case .open = outcome, stabilizeDue {
                    guard stabilize() else { return finished() }
                    if evaluation == nil { outcome = propagate() }
                }
                continue
            }
            donateIfWanted()
            guard let literal = decide() else {
                if !lpAtInnerNodes, let evaluation {
                    outcome = check(evaluation, atLeaf: true)
                    if case .open = outcome {} else { continue }
                }
                // A linear region the theory could not refute, and whose candidate point the
                // real network did not confirm (numerics or a failed LP): undecided. Step past it
                // without claiming a proof.
                incomplete = true
                if trail.decisionLevel <= baseLevel { return finished() }
                let decisions = trail.decisions(upTo: trail.decisionLevel)
                guard let (clause, level) = analyze(.literals(decisions)) else { return finished() }
                learn(clause, level: level, publish: false)
                outcome = propagate()
                continue
            }
            trail.newLevel()
            trail.assign(literal, reason: .decision)
            outcome = propagate()
        }
    }

    /// The outcome of a finished cube: refuted, unless some leaf was left undecided.
    private func finished() -> SearchOutcome {
        incomplete ? .unknown : .refuted
    }
}
