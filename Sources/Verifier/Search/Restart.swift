extension SolverState {
    /// Whether the Luby schedule calls for a restart now.
    var restartDue: Bool {
        conflictsSinceRestart >= Self.luby(lubyIndex) * options.restartBase
    }

    /// Restarts: back to the cube's base level, keeping every learned clause, and imports what the
    /// other workers learned. The activities learned so far re-rank the next decisions. Returns
    /// false when an imported clause refutes the cube.
    func restart() -> Bool {
        stats.restarts += 1
        lubyIndex += 1
        conflictsSinceRestart = 0
        backtrack(to: baseLevel)
        return importSharedClauses()
    }

    /// Adds the clauses other workers published since the last import (at the base level, so no
    /// watch list changes under a running propagation). Returns false when one is false under the
    /// base assignment: the cube is refuted.
    func importSharedClauses() -> Bool {
        let (new, next) = shared.clauses(from: importedUpTo)
        importedUpTo = next
        for clause in new where !knownClauses.contains(clause) {
            knownClauses.insert(clause)
            if !addClauseAtBase(clause) { return false }
        }
        return true
    }

    /// Adds a clause while the trail is at the base level: watches two non-false literals when it
    /// has them; a unit clause under the base assignment implies its literal; an all-false one
    /// refutes the cube (returns false).
    func addClauseAtBase(_ clause: [Literal]) -> Bool {
        if clause.count == 1 {
            units.append(clause[0])
            switch trail.truth(clause[0]) {
            case nil: trail.assign(clause[0], reason: .fact)
            case false?: return false
            case true?: break
            }
            return true
        }
        // Order: true, then unassigned, then false by decreasing level (the watch invariant).
        let ordered = clause.sorted { a, b in
            func rank(_ l: Literal) -> (Int, Int) {
                switch trail.truth(l) {
                case true?: return (0, 0)
                case nil: return (1, 0)
                case false?: return (2, -trail.level[l.variable])
                }
            }
            return rank(a) < rank(b)
        }
        let index = clauses.attach(ordered)
        switch (trail.truth(ordered[0]), trail.truth(ordered[1])) {
        case (false?, _): return false
        case (nil, false?): trail.assign(ordered[0], reason: .clause(index))
        default: break
        }
        return true
    }

    /// The Luby sequence 1, 1, 2, 1, 1, 2, 4, 1, … (1-based).
    static func luby(_ i: Int) -> Int {
        var k = 1
        while (1 << k) - 1 < i { k += 1 }
        var i = i
        while true {
            if i == (1 << k) - 1 { return 1 << (k - 1) }
            i -= (1 << (k - 1)) - 1
            k = 1
            while (1 << k) - 1 < i { k += 1 }
        }
    }
}
