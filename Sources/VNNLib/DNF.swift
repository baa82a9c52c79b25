/// A formula in disjunctive normal form over the parser's atom table: each disjunct is a list of
/// atom indices that must all hold.
///
/// Sizes are checked before anything is multiplied out, so a formula such as
/// `(and (or a b) (or c d) …)` with 40 factors fails with a clear limit error instead of
/// exhausting memory.
struct DNF {
    var disjuncts: [[Int32]]
    /// Total number of atom indices over all disjuncts.
    var references: Int

    /// The empty conjunction, i.e. `true`.
    static var truth: DNF { DNF(disjuncts: [[]], references: 0) }
    /// The empty disjunction, i.e. `false`.
    static var falsity: DNF { DNF(disjuncts: [], references: 0) }

    /// A single conjunction of consecutive atoms.
    init(atoms: Range<Int32>) {
        disjuncts = [Array(atoms)]
        references = atoms.count
    }

    init(disjuncts: [[Int32]], references: Int) {
        self.disjuncts = disjuncts
        self.references = references
    }

    /// `self ∧ (conjunction of atoms)`; in place, which is the common `(and a b c …)` path.
    mutating func conjoin(atoms: Range<Int32>, limits: VNNLibParser.Limits, fail: (String) -> VNNLibError) throws(VNNLibError) {
        let added = atoms.count.multipliedReportingOverflow(by: disjuncts.count)
        try Self.check(disjuncts: disjuncts.count, references: added.overflow ? Int.max : references &+ added.partialValue,
                       limits: limits, fail: fail)
        for i in disjuncts.indices { disjuncts[i].append(contentsOf: atoms) }
        references += added.partialValue
    }

    /// `self ∧ other`; in place when both are single conjunctions, as in `(and a (and b c))`.
    mutating func conjoin(_ other: DNF, limits: VNNLibParser.Limits, fail: (String) -> VNNLibError) throws(VNNLibError) {
        guard disjuncts.count == 1, other.disjuncts.count == 1 else {
            self = try conjoined(with: other, limits: limits, fail: fail)
            return
        }
        try Self.check(disjuncts: 1, references: references + other.references, limits: limits, fail: fail)
        disjuncts[0].append(contentsOf: other.disjuncts[0])
        references += other.references
    }

    /// `self ∨ (conjunction of atoms)`.
    mutating func disjoin(atoms: Range<Int32>, limits: VNNLibParser.Limits, fail: (String) -> VNNLibError) throws(VNNLibError) {
        try Self.check(disjuncts: disjuncts.count + 1, references: references + atoms.count, limits: limits, fail: fail)
        disjuncts.append(Array(atoms))
        references += atoms.count
    }

    /// `self ∨ other`.
    mutating func disjoin(_ other: DNF, limits: VNNLibParser.Limits, fail: (String) -> VNNLibError) throws(VNNLibError) {
        try Self.check(disjuncts: disjuncts.count + other.disjuncts.count, references: references + other.references,
                       limits: limits, fail: fail)
        disjuncts.append(contentsOf: other.disjuncts)
        references += other.references
    }

    /// `self ∧ other`, distributing: disjunct `(i, j)` is `self[i] ++ other[j]`, in that order.
    func conjoined(with other: DNF, limits: VNNLibParser.Limits, fail: (String) -> VNNLibError) throws(VNNLibError) -> DNF {
        let count = disjuncts.count.multipliedReportingOverflow(by: other.disjuncts.count)
        let left = references.multipliedReportingOverflow(by: other.disjuncts.count)
        let right = other.references.multipliedReportingOverflow(by: disjuncts.count)
        let total = left.partialValue.addingReportingOverflow(right.partialValue)
        try Self.check(disjuncts: count.overflow ? Int.max : count.partialValue,
                       references: left.overflow || right.overflow || total.overflow ? Int.max : total.partialValue,
                       limits: limits, fail: fail)
        var out: [[Int32]] = []
        out.reserveCapacity(count.partialValue)
        for a in disjuncts {
            for b in other.disjuncts { out.append(a + b) }
        }
        return DNF(disjuncts: out, references: total.partialValue)
    }

    private static func check(disjuncts: Int, references: Int, limits: VNNLibParser.Limits,
                              fail: (String) -> VNNLibError) throws(VNNLibError) {
        if disjuncts > limits.maxDisjuncts {
            throw fail("the property expands to more than \(limits.maxDisjuncts) disjuncts in disjunctive normal form")
        }
        if references > limits.maxAtomReferences {
            throw fail("the property's disjunctive normal form needs more than \(limits.maxAtomReferences) atoms in total")
        }
    }
}
