extension SolverState {
    /// Undoes every decision level above `level`; unit propagation restarts from the new end of the
    /// trail, and the node's evaluation is stale.
    func backtrack(to level: Int) {
        guard level < trail.decisionLevel else { return }
        trail.backtrack(to: level)
        clauses.propagatedUpTo = min(clauses.propagatedUpTo, trail.count)
        evaluation = nil
        lpBasisAtLevel = lpBasisAtLevel.filter { $0.key <= level }
        boundsAtLevel = boundsAtLevel.filter { $0.key <= level }
        splitOptimumAtLevel = splitOptimumAtLevel.filter { $0.key <= level }
        theory.startBasis = lpBasisAtLevel[level]
    }
}
