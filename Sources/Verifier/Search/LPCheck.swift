import LPAbstraction

/// What the LP says about a region under an assignment.
enum LPCheckResult {
    /// No point of the region satisfies the conjunction. `conflict` lists the fixed phases the
    /// infeasibility certificate names, when there is one (a candidate for a small learned clause;
    /// conflict analysis verifies it before use).
    case refuted(conflict: [NeuronID]?)
    /// The LP optimum: an input worth running the real network on.
    case candidate(input: [Double])
    /// The deadline passed during the solve.
    case timeout
    /// No LP available (not built, or GLPK failed): decide by bounds and branching alone.
    case unavailable
}

// Placeholder until LPAbstraction's LPRelaxation lands: the search runs on bounds alone.
extension Theory {
    func lpCheck(box: Box, evaluation: Evaluation, assignment: PhaseAssignment?,
                 deadline: ContinuousClock.Instant, lpCalls: inout Int) -> LPCheckResult {
        .unavailable
    }

    func lpTighten(box: Box, bounds: NetworkBounds, assignment: PhaseAssignment?, candidates: [(NeuronID, Phase)],
                   deadline: ContinuousClock.Instant, lpCalls: inout Int) -> [(NeuronID, Phase)] {
        []
    }
}
