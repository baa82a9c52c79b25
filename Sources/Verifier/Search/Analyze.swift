import LPAbstraction

extension SolverState {
    /// Learns a clause from a conflict and says where to backjump (first-UIP, MiniSat style).
    ///
    /// Literals of the conflict at the current level are resolved on their reasons until one is
    /// left (the UIP); a literal implied by the bounds resolves to the decisions of its level and
    /// below (its reason clause), one implied by a clause to that clause's other literals. The
    /// learned clause is the UIP's negation plus the negations of the lower-level literals met,
    /// minus those implied by the rest (minimisation). Facts (level 0, or learned units) drop out.
    ///
    /// Returns the clause (asserting literal first, then the one with the highest level) and the
    /// backjump level, or nil when the conflict does not depend on anything above ``baseLevel``
    /// (the cube, or at level 0 the whole problem, is refuted).
    func analyze(_ conflict: Conflict) -> (clause: [Literal], level: Int)? {
        let clock = Stopwatch()
        defer { stats.analyzeSeconds += clock.seconds }
        var start: [Literal]
        switch conflict {
        case .clause(let c): start = clauses.clauses[c].map(\.negated)
        case .literals(let s): start = s
        }
        start = start.filter { trail.reason[$0.variable] != .fact && trail.truth($0) == true }
        // A conflict may lie wholly below the current level (a certificate naming old literals):
        // it is then a conflict at that level.
        let conflictLevel = start.map { trail.level[$0.variable] }.max() ?? 0
        if conflictLevel <= baseLevel { return nil }
        if conflictLevel < trail.decisionLevel { backtrack(to: conflictLevel) }
        let current = trail.decisionLevel

        var marked: [Int] = []
        var lower: [Literal] = []
        var pending = 0
        func add(_ t: Literal) {
            let v = t.variable
            if seen[v] || trail.reason[v] == .fact || trail.level[v] == 0 { return }
            seen[v] = true
            marked.append(v)
            if trail.level[v] >= current { pending += 1 } else { lower.append(t) }
        }
        for t in start { add(t) }

        var uip: Literal?
        var i = trail.count - 1
        while i >= 0 {
            let t = trail.literals[i]
            i -= 1
            let v = t.variable
            guard seen[v], trail.level[v] == current else { continue }
            if pending == 1 { uip = t; break }
            pending -= 1
            switch trail.reason[v] {
            case .clause(let c):
                for l in clauses.clauses[c] where l.variable != v { add(l.negated) }
            case .bounds:
                for d in trail.decisions(upTo: trail.level[v]) { add(d) }
            case .decision, .assumption, .fact:
                uip = t
            }
            if uip != nil { break }
        }
        guard let uip else {
            for v in marked { seen[v] = false }
            return nil
        }

        // Minimisation: drop a lower literal whose reason's literals are all in the clause.
        var inClause = Set(lower.map(\.variable))
        inClause.insert(uip.variable)
        func implied(_ t: Literal) -> Bool {
            let v = t.variable
            switch trail.reason[v] {
            case .clause(let c):
                return clauses.clauses[c].allSatisfy {
                    $0.variable == v || inClause.contains($0.variable) || trail.reason[$0.variable] == .fact
                        || trail.level[$0.variable] == 0
                }
            case .bounds:
                return trail.decisions(upTo: trail.level[v]).allSatisfy { inClause.contains($0.variable) }
            case .decision, .assumption, .fact:
                return false
            }
        }
        let kept = lower.filter { !implied($0) }
        for v in marked { seen[v] = false }

        let others = kept.sorted { trail.level[$0.variable] > trail.level[$1.variable] }
        let clause = [uip.negated] + others.map(\.negated)
        let level = others.first.map { trail.level[$0.variable] } ?? 0
        return (clause, level)
    }

    /// Backjumps and asserts a learned clause: after undoing the levels above `level` its first
    /// literal is the only one not false, so it is implied (with the clause as its reason).
    /// A clause from an undecided leaf (`publish` false) only prunes this worker's search, whose
    /// result is then `unknown` at best; it is never shared.
    func learn(_ clause: [Literal], level: Int, publish: Bool = true) {
        backtrack(to: max(level, baseLevel))
        stats.learnedClauses += 1
        bumpActivity(clause)
        if publish { shared.publish(clause) }
        let sorted = clause.sorted()
        knownClauses.insert(sorted)
        if clause.count == 1 {
            units.append(clause[0])
            if trail.truth(clause[0]) == nil { trail.assign(clause[0], reason: .fact) }
            return
        }
        let index = clauses.attach(clause)
        if trail.truth(clause[0]) == nil { trail.assign(clause[0], reason: .clause(index)) }
    }
}
