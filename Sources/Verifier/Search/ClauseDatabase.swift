import Foundation

/// The learned clauses of one worker, with two watched literals per clause (MiniSat/CaDiCaL).
///
/// A clause is a disjunction of phase literals that every counterexample of the problem must
/// satisfy; it is learned from a refuted conjunction of literals (its negation). Clauses never
/// depend on the cube a worker searches, so they are shared between workers through
/// ``SharedClauseStore``.
struct ClauseDatabase {
    /// The clauses; positions 0 and 1 of each are its watched literals.
    private(set) var clauses: [[Literal]] = []
    /// `watches[l.index]`: clauses watching literal `l` (visited when `l` becomes false).
    private var watches: [[Int]]
    /// Trail position up to which unit propagation has run.
    var propagatedUpTo = 0

    init(variableCount: Int) {
        watches = Array(repeating: [], count: 2 * variableCount)
    }

    /// Adds a clause of two or more literals whose first two literals are the ones to watch
    /// (callers order them: non-false first, then false ones by decreasing level).
    mutating func attach(_ clause: [Literal]) -> Int {
        precondition(clause.count >= 2)
        let index = clauses.count
        clauses.append(clause)
        watches[clause[0].index].append(index)
        watches[clause[1].index].append(index)
        return index
    }

    /// Unit propagation of every trail literal after ``propagatedUpTo``: assigns the implied
    /// literals (reason `.clause`) and returns the index of a clause all of whose literals are
    /// false, if any.
    mutating func propagate(_ trail: inout Trail, implied: inout Int) -> Int? {
        while propagatedUpTo < trail.count {
            let falseLiteral = trail.literals[propagatedUpTo].negated
            propagatedUpTo += 1
            var list = watches[falseLiteral.index]
            var keep = 0
            var conflict: Int?
            var i = 0
            while i < list.count {
                let c = list[i]
                i += 1
                if conflict != nil { list[keep] = c; keep += 1; continue }
                var clause = clauses[c]
                // Make clause[1] the false watch.
                if clause[0] == falseLiteral { clause.swapAt(0, 1) }
                if trail.truth(clause[0]) == true {
                    clauses[c] = clause
                    list[keep] = c; keep += 1
                    continue
                }
                // Look for a new literal to watch.
                var moved = false
                for k in 2..<clause.count where trail.truth(clause[k]) != false {
                    clause.swapAt(1, k)
                    watches[clause[1].index].append(c)
                    moved = true
                    break
                }
                clauses[c] = clause
                if moved { continue }
                list[keep] = c; keep += 1
                if trail.truth(clause[0]) == false {
                    conflict = c
                } else {
                    trail.assign(clause[0], reason: .clause(c))
                    implied += 1
                }
            }
            list.removeSubrange(keep...)
            watches[falseLiteral.index] = list
            if let conflict { return conflict }
        }
        return nil
    }
}

/// Clauses and level-0 facts shared by all workers of one problem, behind a lock.
///
/// Workers publish what they learn and import what others learned at restarts and when they take
/// a new cube, so no worker's watch lists change under it mid-propagation.
final class SharedClauseStore: @unchecked Sendable {
    private let lock = NSLock()
    private var clauses: [[Literal]] = []
    private var seen = Set<[Literal]>()

    /// Publishes a clause (sorted, so duplicates are dropped).
    func publish(_ clause: [Literal]) {
        let key = clause.sorted()
        lock.lock()
        if seen.insert(key).inserted { clauses.append(key) }
        lock.unlock()
    }

    /// Clauses published since position `from`, and the new position.
    func clauses(from: Int) -> (clauses: ArraySlice<[Literal]>, next: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (clauses[from...], clauses.count)
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return clauses.count
    }
}
