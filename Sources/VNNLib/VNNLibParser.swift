/// Reads VNNLIB 1.0 properties into ``Specification`` values.
///
/// Supported syntax, a superset of what VNN-COMP benchmarks use:
///
/// - `(declare-const X_i Real)` and `(declare-const Y_j Real)` in any order; indices of each
///   kind must end up contiguous from 0. `(declare-fun X_i () Real)` is accepted as a synonym.
/// - `(assert F)`, where `F` is `(and F …)`, `(or F …)` (nested arbitrarily) or a comparison
///   `(op a b)` with `op` one of `<=`, `>=`, `<`, `>`, `=`. The operands are linear terms:
///   numbers (`3`, `-0.5`, `+1e-06`, `.5`), declared variables, `(+ t …)`, `(- t)`, `(- t t …)`
///   and `(* t …)` with at most one non-constant factor.
/// - Several asserts form a conjunction. `;` comments, any whitespace, `|quoted|` symbols.
/// - `check-sat`, `get-model`, `exit`, `set-logic`, `set-info` and `set-option` commands are
///   skipped: they carry no meaning for the property.
///
/// Everything else is an error. Errors are always ``VNNLibError`` and carry the path,
/// line and column. Input is read in chunks and never held as a whole, nesting uses an explicit
/// stack, and every size the file controls is capped by ``Limits``, so no input can crash the
/// parser, make it recurse without bound or make it allocate out of proportion to the result.
public enum VNNLibParser {
    /// Caps on what a file may make the parser do; the defaults are far above any real
    /// benchmark and far below what would exhaust a machine.
    public struct Limits: Sendable, Hashable {
        /// Largest number of variables of each kind (`X_` and `Y_`); indices must be below this.
        public var maxVariables: Int = 10_000_000
        /// Deepest nesting of `and`/`or`/term parentheses inside one assert.
        public var maxDepth: Int = 1_000
        /// Most disjuncts the disjunctive normal form may have.
        public var maxDisjuncts: Int = 100_000
        /// Most atom occurrences, summed over all disjuncts of the disjunctive normal form.
        public var maxAtomReferences: Int = 20_000_000
        /// Longest symbol or number, in bytes.
        public var maxTokenLength: Int = 4_096
        /// Most box bounds in the result: distinct boxes × inputs.
        public var maxBoxValues: Int = 50_000_000

        /// The default limits.
        public init() {}
    }

    /// Parses the VNNLIB file at `path`, gzip-compressed or not (or at `path.gz` when only that
    /// exists; VNN-COMP repositories ship `.vnnlib.gz`).
    ///
    /// The file is streamed in 1 MiB chunks, so memory follows the size of the result (about
    /// 16 bytes per input and box) rather than the size of the text.
    /// - Throws: ``VNNLibError`` naming `path`, the line and column, and what was expected.
    public static func parse(contentsOf path: String, limits: Limits = Limits()) throws(VNNLibError) -> Specification {
        try parse(contentsOf: path, limits: limits, chunkSize: ByteReader.chunkSize)
    }

    /// `parse(contentsOf:limits:)` with a chosen read size, so tests can split tokens across reads.
    static func parse(contentsOf path: String, limits: Limits, chunkSize: Int) throws(VNNLibError) -> Specification {
        let reader = try ByteReader(path: path, chunkSize: chunkSize)
        var parser = Parser(reader: reader, path: path, limits: limits)
        return try parser.parse()
    }

    /// Parses VNNLIB text held in memory.
    ///
    /// - Parameter path: the name used in error messages.
    /// - Throws: ``VNNLibError`` naming `path`, the line and column, and what was expected.
    public static func parse(text: String, path: String = "<string>", limits: Limits = Limits()) throws(VNNLibError) -> Specification {
        let reader = ByteReader(bytes: text.utf8, path: path)
        var parser = Parser(reader: reader, path: path, limits: limits)
        return try parser.parse()
    }
}

/// Which indices of one kind of variable have been declared.
///
/// A bit set rather than a `Set<Int>`: 900,000 declarations cost 110 KB, and even an index at
/// the limit costs only a bit per lower index.
struct DeclarationSet {
    private var words: [UInt64] = []
    private(set) var count = 0
    private(set) var maxIndex = -1
    private(set) var maxLocation: SourceLocation?

    func contains(_ index: Int) -> Bool {
        let w = index >> 6
        return w < words.count && words[w] & (1 << UInt64(index & 63)) != 0
    }

    /// Records a declaration; `false` if the index was already declared.
    mutating func insert(_ index: Int, at location: SourceLocation) -> Bool {
        let w = index >> 6
        if w >= words.count { words.append(contentsOf: repeatElement(0, count: w + 1 - words.count)) }
        let bit: UInt64 = 1 << UInt64(index & 63)
        if words[w] & bit != 0 { return false }
        words[w] |= bit
        count += 1
        if index > maxIndex {
            maxIndex = index
            maxLocation = location
        }
        return true
    }

    /// The smallest undeclared index below `maxIndex`, if any.
    func firstGap() -> Int? {
        guard count != maxIndex + 1 else { return nil }
        for (w, word) in words.enumerated() where word != .max {
            return w * 64 + (~word).trailingZeroBitCount
        }
        return nil
    }
}

extension Variable {
    /// The variable's name in VNNLIB syntax.
    var vnnlibName: String {
        switch self {
        case .input(let i): "X_\(i)"
        case .output(let j): "Y_\(j)"
        }
    }
}

/// One parse of one text: reads commands with an explicit stack, never recursing.
///
/// A struct for the same reason as ``Lexer``: class properties would pay a dynamic
/// exclusivity check on every token.
struct Parser {
    /// An open parenthesis inside an assert, waiting for its arguments.
    ///
    /// Frames hold no arrays: the growing values live in side stacks (`dnfs` for `and`/`or`,
    /// `operands` for comparisons, `forms` for term operators) that are mutated in place.
    /// An array inside an enum payload cannot be appended to without first copying it out,
    /// which made `(and a₁ … aₙ)` quadratic.
    private enum Frame {
        case and(SourceLocation, arguments: Int)
        case or(SourceLocation, arguments: Int)
        case comparison(Relation, Keyword, SourceLocation, operands: Int)
        case sum(SourceLocation, arguments: Int)
        case difference(SourceLocation, arguments: Int)
        case product(SourceLocation, arguments: Int, factor: Double, hasTerm: Bool)

        var isFormula: Bool {
            switch self {
            case .and, .or: true
            default: false
            }
        }

        var isComparison: Bool {
            if case .comparison = self { return true }
            return false
        }

        var location: SourceLocation {
            switch self {
            case .and(let l, _), .or(let l, _), .comparison(_, _, let l, _),
                 .sum(let l, _), .difference(let l, _), .product(let l, _, _, _): l
            }
        }

        var operatorText: String {
            switch self {
            case .and: "and"
            case .or: "or"
            case .comparison(_, let k, _, _): k.text
            case .sum: "+"
            case .difference: "-"
            case .product: "*"
            }
        }
    }

    /// A finished formula: a run of atoms in the table (one comparison) or a general DNF.
    private enum FormulaValue {
        case atoms(Range<Int32>)
        case dnf(DNF)
    }

    private var lexer: Lexer
    private let path: String
    private let limits: VNNLibParser.Limits
    private var inputs = DeclarationSet()
    private var outputs = DeclarationSet()
    /// Atoms of disjunctive asserts (indexed by their DNFs) and of the assert being parsed.
    private var atoms: [Atom] = []
    private var stack: [Frame] = []
    /// How many frames from the bottom of `stack` are all `and`: atoms delivered to the top
    /// one of those hold unconditionally, so they go straight to the shared box instead of
    /// the atom table — `(assert (and …))` over 900,000 bounds then costs no more memory than
    /// 1.8 million separate asserts.
    private var andPrefix = 0
    /// The DNF of each open `and`/`or`, innermost last.
    private var dnfs: [DNF] = []
    /// The operands read so far by each open comparison, innermost last.
    private var operands: [Operand] = []
    /// The form of each open `+`/`-`, and the non-constant factor of each open `*`.
    private var forms: [LinearForm] = []
    /// A token read ahead by the comparison fast path and not yet consumed.
    private var pending: Token?
    private var builder: SpecificationBuilder

    init(reader: ByteReader, path: String, limits: VNNLibParser.Limits) {
        var limits = limits
        limits.maxVariables = min(max(limits.maxVariables, 1), Int(Int32.max))
        limits.maxDepth = max(limits.maxDepth, 1)
        lexer = Lexer(reader: reader, path: path, limits: limits)
        self.path = path
        self.limits = limits
        builder = SpecificationBuilder(path: path, limits: limits)
    }

    // MARK: - Commands

    mutating func parse() throws(VNNLibError) -> Specification {
        while true {
            let token = try lexer.next()
            switch token.kind {
            case .endOfFile:
                return try finish()
            case .open:
                try parseCommand(openedAt: token.location)
            default:
                throw error(.syntax, at: token, "expected '(' starting a command but found \(describe(token))")
            }
        }
    }

    private mutating func parseCommand(openedAt open: SourceLocation) throws(VNNLibError) {
        let token = try lexer.next()
        switch token.kind {
        case .keyword(.declareConst):
            try parseDeclaration(function: false)
        case .keyword(.declareFun):
            try parseDeclaration(function: true)
        case .keyword(.assert):
            try parseAssert(openedAt: open)
        case .keyword(.checkSat), .keyword(.getModel), .keyword(.exit),
             .keyword(.setLogic), .keyword(.setInfo), .keyword(.setOption):
            try skipCommand(openedAt: open)
        case .symbol(let name):
            throw error(.unsupported, at: token, "unsupported command '\(name)' (expected declare-const or assert)")
        default:
            throw error(.syntax, at: token, "expected a command (declare-const or assert) but found \(describe(token))")
        }
    }

    private mutating func parseDeclaration(function: Bool) throws(VNNLibError) {
        let nameToken = try lexer.next()
        let variable: Variable
        switch nameToken.kind {
        case .variable(let v):
            variable = v
        case .symbol(let name):
            throw error(.unsupported, at: nameToken,
                        "unsupported variable name '\(name)': VNNLIB variables are X_<index> (inputs) and Y_<index> (outputs), indices without leading zeros")
        default:
            throw error(.syntax, at: nameToken, "expected a variable name (X_<index> or Y_<index>) but found \(describe(nameToken))")
        }
        if function {
            let open = try lexer.next()
            guard open.kind == .open else { throw error(.syntax, at: open, "expected '(' but found \(describe(open))") }
            let close = try lexer.next()
            guard close.kind == .close else {
                throw error(.unsupported, at: close, "expected ')': functions with parameters are not supported, found \(describe(close))")
            }
        }
        let sort = try lexer.next()
        switch sort.kind {
        case .keyword(.real):
            break
        case .symbol(let name):
            throw error(.unsupported, at: sort, "unsupported sort '\(name)' (only Real is supported)")
        default:
            throw error(.syntax, at: sort, "expected a sort (Real) but found \(describe(sort))")
        }
        try expectClose()
        let inserted: Bool
        switch variable {
        case .input(let i): inserted = inputs.insert(i, at: nameToken.location)
        case .output(let j): inserted = outputs.insert(j, at: nameToken.location)
        }
        if !inserted {
            throw error(.declaration, at: nameToken, "duplicate declaration of '\(variable.vnnlibName)'")
        }
    }

    private mutating func parseAssert(openedAt open: SourceLocation) throws(VNNLibError) {
        let start = atoms.count
        let value = try parseFormula()
        try expectClose()
        switch value {
        case .atoms(let range):
            for i in range { builder.addShared(atoms[Int(i)]) }
            atoms.removeSubrange(start...)
        case .dnf(let dnf) where dnf.disjuncts.count == 1:
            for i in dnf.disjuncts[0] { builder.addShared(atoms[Int(i)]) }
            atoms.removeSubrange(start...)
        case .dnf(let dnf):
            try builder.addDisjunctive(dnf, at: open)
        }
    }

    /// Skips a command with no meaning for the property, keeping parentheses balanced.
    private mutating func skipCommand(openedAt open: SourceLocation) throws(VNNLibError) {
        var depth = 1
        while depth > 0 {
            let token = try lexer.next()
            switch token.kind {
            case .open: depth += 1
            case .close: depth -= 1
            case .endOfFile:
                throw error(.syntax, at: token, "expected ')' but found end of file (the '(' at \(open) is never closed)")
            default: break
            }
        }
    }

    private mutating func expectClose() throws(VNNLibError) {
        let token = try lexer.next()
        guard token.kind == .close else {
            throw error(.syntax, at: token, "expected ')' but found \(describe(token))")
        }
    }

    // MARK: - Formulas

    /// Parses one formula with an explicit stack; the result's atoms are in `atoms`.
    private mutating func parseFormula() throws(VNNLibError) -> FormulaValue {
        stack.removeAll(keepingCapacity: true)
        dnfs.removeAll(keepingCapacity: true)
        operands.removeAll(keepingCapacity: true)
        forms.removeAll(keepingCapacity: true)
        andPrefix = 0
        let first = try lexer.next()
        guard first.kind == .open else {
            throw error(.syntax, at: first, "expected '(' starting a formula but found \(describe(first))")
        }
        if let (range, _) = try openFormula(at: first.location) { return .atoms(range) }
        while true {
            let token = try nextToken()
            // Only flags are read from the top frame: holding a copy of it would make the
            // frame's arrays shared and turn every in-place append into a full copy.
            let topIsFormula = stack[stack.count - 1].isFormula
            if topIsFormula {
                switch token.kind {
                case .open:
                    if let (range, location) = try openFormula(at: token.location) {
                        try deliver(.atoms(range), at: location)
                    }
                case .close:
                    let (value, location) = try closeConnective()
                    if stack.isEmpty { return value }
                    try deliver(value, at: location)
                case .endOfFile:
                    throw unclosed(stack[stack.count - 1], at: token)
                default:
                    throw error(.syntax, at: token,
                                "expected '(' starting a formula or ')' closing '\(stack[stack.count - 1].operatorText)' but found \(describe(token))")
                }
            } else {
                switch token.kind {
                case .open:
                    try openTerm(at: token.location)
                case .close:
                    if stack[stack.count - 1].isComparison {
                        let (range, location) = try closeComparison(at: token)
                        if stack.isEmpty { return .atoms(range) }
                        try deliver(.atoms(range), at: location)
                    } else {
                        try deliver(try closeTerm(at: token), at: token)
                    }
                case .number(let c):
                    try deliver(.constant(c), at: token)
                case .variable(let v):
                    try checkDeclared(v, at: token)
                    try deliver(.variable(v), at: token)
                case .endOfFile:
                    throw unclosed(stack[stack.count - 1], at: token)
                case .symbol(let name):
                    throw error(.syntax, at: token, "unknown symbol '\(name)': expected a number or a variable X_<index>/Y_<index>")
                default:
                    throw error(.syntax, at: token, "expected a number, a variable or '(' but found \(describe(token))")
                }
            }
        }
    }

    /// The token put back by the comparison fast path, else the next one from the lexer.
    private mutating func nextToken() throws(VNNLibError) -> Token {
        if let token = pending {
            pending = nil
            return token
        }
        return try lexer.next()
    }

    private func checkDepth(at location: SourceLocation) throws(VNNLibError) {
        guard stack.count < limits.maxDepth else {
            throw VNNLibError(kind: .limit, path: path, location: location,
                              message: "formula nested deeper than \(limits.maxDepth) levels")
        }
    }

    private mutating func push(_ frame: Frame, at location: SourceLocation) throws(VNNLibError) {
        try checkDepth(at: location)
        if case .and = frame, andPrefix == stack.count { andPrefix += 1 }
        stack.append(frame)
    }

    /// A number or declared variable as an operand; `nil` for any other token.
    private func leafOperand(_ token: Token) throws(VNNLibError) -> Operand? {
        switch token.kind {
        case .number(let c): return .constant(c)
        case .variable(let v):
            try checkDeclared(v, at: token)
            return .variable(v)
        default: return nil
        }
    }

    /// After `(` in formula position: `and`, `or` or a comparison.
    ///
    /// A comparison of two numbers or variables — nearly every atom in real files — is turned
    /// into atoms right here, without a stack frame; its atoms and location are returned.
    /// Anything longer falls back to a frame, with the token that did not fit put back.
    private mutating func openFormula(at location: SourceLocation) throws(VNNLibError) -> (Range<Int32>, SourceLocation)? {
        let token = try lexer.next()
        switch token.kind {
        case .keyword(let k) where Relation(k) != nil:
            let relation = Relation(k)!
            try checkDepth(at: location)
            var lhs: Operand?, rhs: Operand?
            var next = try lexer.next()
            if let operand = try leafOperand(next) {
                lhs = operand
                next = try lexer.next()
                if let operand = try leafOperand(next) {
                    rhs = operand
                    next = try lexer.next()
                    if next.kind == .close, let lhs, let rhs {
                        return (try appendAtoms(relation, lhs, rhs, at: location), location)
                    }
                }
            }
            if let lhs { operands.append(lhs) }
            if let rhs { operands.append(rhs) }
            stack.append(.comparison(relation, k, location, operands: rhs != nil ? 2 : lhs != nil ? 1 : 0))
            pending = next
            return nil
        case .keyword(.and):
            try push(.and(location, arguments: 0), at: location)
            dnfs.append(.truth)
        case .keyword(.or):
            try push(.or(location, arguments: 0), at: location)
            dnfs.append(.falsity)
        case .symbol(let name) where ["not", "=>", "ite", "let", "xor", "distinct"].contains(name):
            throw error(.unsupported, at: token,
                        "unsupported operator '\(name)' (VNNLIB 1.0 formulas use and, or, <=, >=, <, >, =)")
        default:
            throw error(.syntax, at: token,
                        "expected a formula operator (and, or, <=, >=, <, >, =) but found \(describe(token))")
        }
        return nil
    }

    /// After `(` in term position: `+`, `-` or `*`.
    private mutating func openTerm(at location: SourceLocation) throws(VNNLibError) {
        let token = try lexer.next()
        switch token.kind {
        case .keyword(.plus): try push(.sum(location, arguments: 0), at: location)
        case .keyword(.minus): try push(.difference(location, arguments: 0), at: location)
        case .keyword(.times): try push(.product(location, arguments: 0, factor: 1, hasTerm: false), at: location)
        case .symbol(let name) where name == "/":
            throw error(.unsupported, at: token, "unsupported operator '/' in a term (write the quotient as a decimal)")
        default:
            throw error(.syntax, at: token, "expected a term operator (+, -, *) but found \(describe(token))")
        }
        forms.append(LinearForm())
    }

    /// Pops a finished `and`/`or`; returns its value and where it opened.
    private mutating func closeConnective() throws(VNNLibError) -> (FormulaValue, SourceLocation) {
        let frame = stack.removeLast()
        andPrefix = min(andPrefix, stack.count)
        switch frame {
        case .and(let location, let arguments), .or(let location, let arguments):
            if arguments == 0 {
                throw VNNLibError(kind: .syntax, path: path, location: location,
                                  message: "'\(frame.operatorText)' needs at least one argument")
            }
            return (.dnf(dnfs.removeLast()), location)
        default:
            preconditionFailure("closeConnective on a term frame")
        }
    }

    /// Hands a finished sub-formula to the enclosing `and`/`or`; `location` is where the
    /// sub-formula opened, the place to blame when it makes the DNF too large.
    private mutating func deliver(_ value: FormulaValue, at location: SourceLocation) throws(VNNLibError) {
        let path = self.path, limits = self.limits
        let fail = { (message: String) in VNNLibError(kind: .limit, path: path, location: location, message: message) }
        let top = stack.count - 1, d = dnfs.count - 1
        switch stack[top] {
        case .and(let l, let arguments):
            switch value {
            case .atoms(let range) where top < andPrefix:
                // The comparison's atoms are the newest in the table.
                for i in range { builder.addShared(atoms[Int(i)]) }
                atoms.removeSubrange(Int(range.lowerBound)...)
            case .atoms(let range): try dnfs[d].conjoin(atoms: range, limits: limits, fail: fail)
            case .dnf(let other): try dnfs[d].conjoin(other, limits: limits, fail: fail)
            }
            stack[top] = .and(l, arguments: arguments + 1)
        case .or(let l, let arguments):
            switch value {
            case .atoms(let range): try dnfs[d].disjoin(atoms: range, limits: limits, fail: fail)
            case .dnf(let other): try dnfs[d].disjoin(other, limits: limits, fail: fail)
            }
            stack[top] = .or(l, arguments: arguments + 1)
        default:
            preconditionFailure("formula delivered to a term frame")
        }
    }

    /// Hands a finished term to the enclosing comparison or term operator.
    private mutating func deliver(_ operand: Operand, at token: Token) throws(VNNLibError) {
        let top = stack.count - 1
        switch stack[top] {
        case .comparison(let relation, let k, let l, let count):
            guard count < 2 else {
                throw error(.syntax, at: token, "'\(k.text)' takes exactly 2 arguments but found a third: \(describe(token))")
            }
            operands.append(operand)
            stack[top] = .comparison(relation, k, l, operands: count + 1)
        case .sum(let l, let arguments):
            forms[forms.count - 1].add(operand, scale: 1)
            stack[top] = .sum(l, arguments: arguments + 1)
        case .difference(let l, let arguments):
            forms[forms.count - 1].add(operand, scale: arguments == 0 ? 1 : -1)
            stack[top] = .difference(l, arguments: arguments + 1)
        case .product(let l, let arguments, let factor, let hasTerm):
            if let c = operand.constantValue {
                stack[top] = .product(l, arguments: arguments + 1, factor: factor * c, hasTerm: hasTerm)
            } else if !hasTerm {
                forms[forms.count - 1].add(operand, scale: 1)
                stack[top] = .product(l, arguments: arguments + 1, factor: factor, hasTerm: true)
            } else {
                throw error(.unsupported, at: token, "nonlinear term: '*' may have at most one non-constant factor")
            }
        case .and, .or:
            preconditionFailure("term delivered to a formula frame")
        }
    }

    private mutating func closeTerm(at token: Token) throws(VNNLibError) -> Operand {
        let frame = stack.removeLast()
        let form = forms.removeLast()
        let needsArgument = VNNLibError(kind: .syntax, path: path, location: token.location,
                                        message: "'\(frame.operatorText)' needs at least one argument but found ')'")
        switch frame {
        case .sum(_, let arguments):
            guard arguments > 0 else { throw needsArgument }
            return .form(form)
        case .difference(_, let arguments):
            guard arguments > 0 else { throw needsArgument }
            return arguments == 1 ? Operand.form(form).scaled(by: -1) : .form(form)
        case .product(_, let arguments, let factor, let hasTerm):
            guard arguments > 0 else { throw needsArgument }
            return hasTerm ? Operand.form(form).scaled(by: factor) : .constant(factor)
        default:
            preconditionFailure("closeTerm on a formula frame")
        }
    }

    /// Pops a finished comparison into the atom table; returns its atoms and where it opened.
    private mutating func closeComparison(at token: Token) throws(VNNLibError) -> (Range<Int32>, SourceLocation) {
        guard case .comparison(let relation, let k, let location, let count) = stack.removeLast() else {
            preconditionFailure("closeComparison on another frame")
        }
        guard count == 2 else {
            throw error(.syntax, at: token, "'\(k.text)' takes exactly 2 arguments but found \(count)")
        }
        let rhs = operands.removeLast()
        let lhs = operands.removeLast()
        return (try appendAtoms(relation, lhs, rhs, at: location), location)
    }

    /// Adds the atoms of one comparison to the table and returns their indices.
    private mutating func appendAtoms(_ relation: Relation, _ lhs: Operand, _ rhs: Operand,
                                      at location: SourceLocation) throws(VNNLibError) -> Range<Int32> {
        guard atoms.count < Int(Int32.max) - 2 else {
            throw VNNLibError(kind: .limit, path: path, location: location, message: "too many comparisons in one assert")
        }
        let start = Int32(atoms.count)
        try Comparison.appendAtoms(relation, lhs, rhs, at: location, path: path, to: &atoms)
        return start..<Int32(atoms.count)
    }

    private func checkDeclared(_ variable: Variable, at token: Token) throws(VNNLibError) {
        let declared: Bool
        switch variable {
        case .input(let i): declared = inputs.contains(i)
        case .output(let j): declared = outputs.contains(j)
        }
        guard declared else {
            let name = variable.vnnlibName
            throw error(.declaration, at: token, "undeclared variable '\(name)' (declare it with (declare-const \(name) Real) before its first use)")
        }
    }

    // MARK: - End of file

    private mutating func finish() throws(VNNLibError) -> Specification {
        let inputCount = try contiguousCount(inputs, kind: "X", what: "input")
        let outputCount = try contiguousCount(outputs, kind: "Y", what: "output")
        return try builder.build(atoms: atoms, inputCount: inputCount, outputCount: outputCount)
    }

    private func contiguousCount(_ set: DeclarationSet, kind: String, what: String) throws(VNNLibError) -> Int {
        guard set.count > 0 else {
            throw VNNLibError(kind: .declaration, path: path, location: nil,
                              message: "no \(what) variables declared (expected (declare-const \(kind)_0 Real) …)")
        }
        if let gap = set.firstGap() {
            throw VNNLibError(kind: .declaration, path: path, location: set.maxLocation,
                              message: "\(kind)_\(set.maxIndex) is declared but \(kind)_\(gap) is not: \(what)s must be declared as \(kind)_0 … \(kind)_<n-1>")
        }
        return set.count
    }

    // MARK: - Messages

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .open: "'('"
        case .close: "')'"
        case .endOfFile: "end of file"
        case .string: "a string literal"
        case .number: "number '\(lexer.lastTokenText)'"
        case .variable(let v): "'\(v.vnnlibName)'"
        case .keyword(let k): "'\(k.text)'"
        case .symbol(let s): "'\(s)'"
        }
    }

    private func error(_ kind: VNNLibError.Kind, at token: Token, _ message: String) -> VNNLibError {
        VNNLibError(kind: kind, path: path, location: token.location, message: message)
    }

    private func unclosed(_ frame: Frame, at token: Token) -> VNNLibError {
        error(.syntax, at: token, "expected ')' but found end of file (the '(\(frame.operatorText)' at \(frame.location) is never closed)")
    }
}
