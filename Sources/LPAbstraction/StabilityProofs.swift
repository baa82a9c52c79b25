import Dispatch
import Foundation
import Network

/// One neuron's sound stability proof in progress: the branches still open (depth first, the
/// next on top). It lets proofs share time in slices and resume where they stopped.
///
/// `@unchecked Sendable`: a proof moves between threads only between slices, and
/// ``StabilityProofBatch`` hands each proof to one worker at a time.
final class StabilityProof: @unchecked Sendable {
    let neuron: NeuronID
    let goal: Phase
    /// Branches not yet bounded, each a phase assignment with its parent's LP basis (the warm
    /// start for its own LP: a sibling is popped long after its parent was solved, when the LP
    /// holds the basis of a leaf deep in the other subtree); the proof is done when none is left.
    var open: [(assignment: PhaseAssignment, parentBasis: LPRelaxation.Basis?)]
    /// Branch-and-bound nodes bounded so far.
    var explored = 0

    init(neuron: NeuronID, goal: Phase, root: PhaseAssignment) {
        self.neuron = neuron
        self.goal = goal
        open = [(root, nil)]
    }
}

/// Runs a batch of proofs for one slice each on worker threads.
///
/// Every worker builds its own ``StabilityCertifier`` (GLPK keeps its state per thread, so each
/// LP is created, used and deleted on one thread) and takes proofs from a shared counter. Each
/// proof works on its own copy of the witness book; the LP points it keeps are returned per
/// proof, for the caller to record in proof order, so the outcome of a batch does not depend on
/// which worker ran which proof (only on where the deadlines cut the proofs).
final class StabilityProofBatch: @unchecked Sendable {
    private let proofs: [StabilityProof]
    private let lock = NSLock()
    private var next = 0
    private var results: [(outcome: CertificationOutcome, points: [[Double]])?]

    init(_ proofs: [StabilityProof]) {
        self.proofs = proofs
        results = Array(repeating: nil, count: proofs.count)
    }

    /// Runs every proof for at most `slice` (and not past `deadline`) on up to `threads` workers;
    /// returns each proof's outcome and the witness points it found, in the order of the proofs.
    func run(threads: Int, slice: Duration, deadline: ContinuousClock.Instant, book: WitnessBook,
             makeCertifier: @Sendable () -> StabilityCertifier) -> [(outcome: CertificationOutcome, points: [[Double]])] {
        let known = book.points.count
        DispatchQueue.concurrentPerform(iterations: Swift.max(1, Swift.min(threads, proofs.count))) { _ in
            let certifier = makeCertifier()
            while let i = take() {
                var local = book
                let proofDeadline = Swift.min(deadline, ContinuousClock.now + slice)
                let outcome = certifier.certify(proofs[i], book: &local, deadline: proofDeadline)
                store(i, (outcome, Array(local.points[known...])))
            }
        }
        return results.map { $0 ?? (.timeout, []) }
    }

    private func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < proofs.count else { return nil }
        next += 1
        return next - 1
    }

    private func store(_ i: Int, _ result: (outcome: CertificationOutcome, points: [[Double]])) {
        lock.lock()
        results[i] = result
        lock.unlock()
    }
}
