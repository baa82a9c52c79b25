/// Collects the asserts of a file and turns their conjunction into ``Specification/cases``.
///
/// Asserts whose DNF is a single conjunction (the common case: hundreds of thousands of
/// `(assert (<= X_i c))`) are folded straight into one shared box and constraint list, in
/// memory proportional to the inputs. Only genuinely disjunctive asserts are kept as DNFs and
/// multiplied out, and each resulting disjunct is stored as the shared part plus a sparse
/// difference, so boxes are materialised once per distinct box rather than once per disjunct.
struct SpecificationBuilder {
    let path: String
    let limits: VNNLibParser.Limits

    /// Box of the shared conjunction, grown lazily to the largest input bounded so far.
    private var lower: [Double] = []
    private var upper: [Double] = []
    /// Non-box constraints of the shared conjunction, in file order.
    private var constraints: [LinearConstraint] = []
    /// Where the first always-false atom of the shared conjunction is.
    private var falseAt: SourceLocation?
    /// Product of the disjunctive asserts so far; `nil` while there are none.
    private var disjunctive: DNF?

    init(path: String, limits: VNNLibParser.Limits) {
        self.path = path
        self.limits = limits
    }

    // MARK: - Collecting

    /// Adds an atom that holds in every disjunct.
    mutating func addShared(_ atom: Atom) {
        switch atom {
        case .lowerBound(let input, let value):
            let i = Int(input)
            grow(to: i + 1)
            if value > lower[i] { lower[i] = value }
        case .upperBound(let input, let value):
            let i = Int(input)
            grow(to: i + 1)
            if value < upper[i] { upper[i] = value }
        case .constraint(let c):
            constraints.append(c)
        case .constant(let holds, let location):
            if !holds, falseAt == nil { falseAt = location }
        }
    }

    /// Conjoins a disjunctive assert, multiplying it into the ones seen before.
    mutating func addDisjunctive(_ dnf: DNF, at location: SourceLocation) throws(VNNLibError) {
        guard let previous = disjunctive else {
            disjunctive = dnf
            return
        }
        let path = self.path
        disjunctive = try previous.conjoined(with: dnf, limits: limits) { message in
            VNNLibError(kind: .limit, path: path, location: location, message: message)
        }
    }

    private mutating func grow(to count: Int) {
        guard lower.count < count else { return }
        let missing = count - lower.count
        lower.append(contentsOf: repeatElement(-.infinity, count: missing))
        upper.append(contentsOf: repeatElement(.infinity, count: missing))
    }

    // MARK: - Building

    /// The inputs a disjunct bounds more tightly than the shared box, sorted by input index.
    private struct BoxKey: Hashable {
        struct Entry: Hashable {
            var input: Int32
            var lower: Double
            var upper: Double

            static func == (a: Entry, b: Entry) -> Bool {
                a.input == b.input && a.lower == b.lower && a.upper == b.upper
            }

            func hash(into hasher: inout Hasher) {
                // `+ 0` maps -0.0 to 0.0 so that hashing agrees with `==`; NaN cannot occur.
                hasher.combine(input)
                hasher.combine((lower + 0).bitPattern)
                hasher.combine((upper + 0).bitPattern)
            }
        }
        var entries: [Entry]

        func bounds(of input: Int) -> (lower: Double, upper: Double)? {
            var lo = 0, hi = entries.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if Int(entries[mid].input) < input { lo = mid + 1 } else { hi = mid }
            }
            guard lo < entries.count, Int(entries[lo].input) == input else { return nil }
            return (entries[lo].lower, entries[lo].upper)
        }
    }

    /// Builds the specification once the whole file has been read.
    ///
    /// - Parameter atoms: the atom table the disjunctive DNFs index into.
    mutating func build(atoms: [Atom], inputCount: Int, outputCount: Int) throws(VNNLibError) -> Specification {
        grow(to: inputCount)
        var warnings: [String] = []
        func never(_ reason: String) -> Specification {
            var spec = Specification(inputCount: inputCount, outputCount: outputCount, cases: [])
            spec.warnings = warnings + ["\(reason); the property can never be violated, so it has no cases"]
            return spec
        }
        if let falseAt { return never("the comparison at \(falseAt) is always false") }
        for i in 0..<inputCount where lower[i] > upper[i] {
            return never("the input box is empty: X_\(i) needs \(lower[i]) ≤ X_\(i) ≤ \(upper[i])")
        }

        // Group disjuncts by their box, in order of first appearance.
        var keyIndex: [BoxKey: Int] = [:]
        var keys: [BoxKey] = []
        var violations: [[[LinearConstraint]]] = []
        var dropped: [String] = []
        var bounds: [(input: Int32, isUpper: Bool, value: Double)] = []
        let disjuncts = disjunctive?.disjuncts ?? [[]]
        for (number, disjunct) in disjuncts.enumerated() {
            var conjunction = constraints
            var alwaysFalse: SourceLocation?
            bounds.removeAll(keepingCapacity: true)
            for id in disjunct {
                switch atoms[Int(id)] {
                case .lowerBound(let input, let value): bounds.append((input, false, value))
                case .upperBound(let input, let value): bounds.append((input, true, value))
                case .constraint(let c): conjunction.append(c)
                case .constant(let holds, let location): if !holds, alwaysFalse == nil { alwaysFalse = location }
                }
            }
            let label = disjuncts.count > 1 ? "disjunct \(number + 1) of \(disjuncts.count)" : "the only disjunct"
            if let alwaysFalse {
                dropped.append("\(label) dropped: the comparison at \(alwaysFalse) is always false")
                continue
            }
            bounds.sort { $0.input < $1.input }
            var entries: [BoxKey.Entry] = []
            var empty: String?
            var k = 0
            while k < bounds.count {
                let input = bounds[k].input
                let i = Int(input)
                var lo = lower[i], hi = upper[i]
                while k < bounds.count, bounds[k].input == input {
                    if bounds[k].isUpper { hi = min(hi, bounds[k].value) } else { lo = max(lo, bounds[k].value) }
                    k += 1
                }
                if lo > hi, empty == nil { empty = "X_\(i) needs \(lo) ≤ X_\(i) ≤ \(hi)" }
                if lo != lower[i] || hi != upper[i] { entries.append(.init(input: input, lower: lo, upper: hi)) }
            }
            if let empty {
                dropped.append("\(label) dropped: its input box is empty (\(empty))")
                continue
            }
            let key = BoxKey(entries: entries)
            if let g = keyIndex[key] {
                violations[g].append(conjunction)
            } else {
                keyIndex[key] = keys.count
                keys.append(key)
                violations.append([conjunction])
            }
        }
        let shown = 10
        warnings += dropped.prefix(shown).map { $0 + "; it can never be violated" }
        if dropped.count > shown { warnings.append("\(dropped.count - shown) more disjuncts dropped for the same reasons") }
        if keys.isEmpty { return never("every disjunct is unsatisfiable") }

        try checkBounded(keys: keys, inputCount: inputCount)
        let values = keys.count.multipliedReportingOverflow(by: inputCount)
        if values.overflow || values.partialValue > limits.maxBoxValues {
            throw VNNLibError(kind: .limit, path: path, location: nil,
                              message: "the property has \(keys.count) distinct input boxes over \(inputCount) inputs, more than the limit of \(limits.maxBoxValues) bound values")
        }

        var cases: [Case] = []
        cases.reserveCapacity(keys.count)
        for (g, key) in keys.enumerated() {
            var lo: [Double], hi: [Double]
            if g == keys.count - 1 {
                // The last box takes over the shared arrays instead of copying them.
                lo = lower
                hi = upper
                lower = []
                upper = []
            } else {
                lo = lower
                hi = upper
            }
            for e in key.entries {
                lo[Int(e.input)] = e.lower
                hi[Int(e.input)] = e.upper
            }
            cases.append(Case(lower: lo, upper: hi, violation: violations[g]))
        }
        var spec = Specification(inputCount: inputCount, outputCount: outputCount, cases: cases)
        spec.warnings = warnings
        return spec
    }

    /// Every input needs a finite lower and upper bound in every box: verification works on
    /// bounded regions, and a missing bound almost always means a typo in the file.
    private func checkBounded(keys: [BoxKey], inputCount: Int) throws(VNNLibError) {
        var open: [Int] = []
        for i in 0..<inputCount where !lower[i].isFinite || !upper[i].isFinite { open.append(i) }
        guard !open.isEmpty else { return }
        for (g, key) in keys.enumerated() {
            for i in open {
                let (lo, hi) = key.bounds(of: i) ?? (lower[i], upper[i])
                guard lo.isFinite, hi.isFinite else {
                    let side = !lo.isFinite ? "lower" : "upper"
                    let example = !lo.isFinite ? "(assert (>= X_\(i) -1.0))" : "(assert (<= X_\(i) 1.0))"
                    let which = keys.count > 1 ? " in input box \(g + 1) of \(keys.count)" : ""
                    throw VNNLibError(kind: .semantic, path: path, location: nil,
                                      message: "input X_\(i) has no \(side) bound\(which); every input needs a constant lower and upper bound such as \(example)")
                }
            }
        }
    }
}
