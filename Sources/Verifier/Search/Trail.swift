import LPAbstraction
import Network

/// A ReLU phase literal: "neuron `variable` is in `phase`". Variables are the ReLU neurons
/// numbered layer by layer (see ``VariableMap``); the code packs both into one integer, as SAT
/// solvers do, so watch lists can be indexed by literal.
struct Literal: Hashable, Sendable, Comparable, CustomStringConvertible {
    let code: Int32

    init(variable: Int, phase: Phase) {
        code = Int32(variable << 1 | (phase == .active ? 1 : 0))
    }

    private init(code: Int32) { self.code = code }

    var variable: Int { Int(code >> 1) }
    var phase: Phase { code & 1 == 1 ? .active : .inactive }
    /// The opposite literal (same neuron, other phase).
    var negated: Literal { Literal(code: code ^ 1) }
    var index: Int { Int(code) }

    static func < (a: Literal, b: Literal) -> Bool { a.code < b.code }
    var description: String { (phase == .active ? "+" : "-") + "v\(variable)" }
}

/// Numbers the ReLU neurons of a network `0 ..< count`, layer by layer.
struct VariableMap: Sendable {
    /// `offsets[l]` is the variable of neuron `(l, 0)`; `offsets.last` is the count.
    let offsets: [Int]

    init(network: Network) {
        var o = [0]
        for node in network.reluNodes { o.append(o.last! + network.nodes[node].size) }
        offsets = o
    }

    var count: Int { offsets.last! }
    var layerCount: Int { offsets.count - 1 }

    func variable(_ n: NeuronID) -> Int { offsets[n.layer] + n.index }

    func neuron(_ v: Int) -> NeuronID {
        var l = 0
        while offsets[l + 1] <= v { l += 1 }
        return NeuronID(layer: l, index: v - offsets[l])
    }
}

/// Why a literal is on the trail; conflict analysis resolves on it.
enum Reason: Equatable {
    /// Chosen by ``decide``.
    case decision
    /// A cube literal a worker was given (a decision it may never undo).
    case assumption
    /// Found stable by the bounds under the assignment at its level. Its reason clause is the
    /// negation of every decision and assumption at levels `1 ... level`: the bounds were computed
    /// from exactly those (everything else on the trail follows from them).
    case bounds
    /// Implied by the learned clause with this index in the worker's clause database.
    case clause(Int)
    /// A level-0 fact (root bounds, stabilization, a unit clause): holds for the whole problem.
    case fact
}

/// The assignment as a stack of literals with decision levels and reasons (CaDiCaL's trail).
struct Trail {
    /// Literals in assignment order.
    private(set) var literals: [Literal] = []
    /// `levelStart[k]` is the trail position where decision level `k + 1` begins.
    private(set) var levelStart: [Int] = []
    /// Per variable: the assigned phase, or nil.
    private(set) var value: [Phase?]
    /// Per variable: decision level of its assignment.
    private(set) var level: [Int]
    /// Per variable: reason of its assignment.
    private(set) var reason: [Reason]
    /// Per variable: trail position.
    private(set) var position: [Int]
    /// The same assignment in the shape the bound propagator takes.
    private(set) var assignment: PhaseAssignment
    let variables: VariableMap

    init(network: Network, variables: VariableMap) {
        self.variables = variables
        value = Array(repeating: nil, count: variables.count)
        level = Array(repeating: 0, count: variables.count)
        reason = Array(repeating: .fact, count: variables.count)
        position = Array(repeating: 0, count: variables.count)
        assignment = PhaseAssignment(network: network)
    }

    var decisionLevel: Int { levelStart.count }
    var count: Int { literals.count }

    /// True if `literal` holds, false if its negation holds, nil if unassigned.
    func truth(_ literal: Literal) -> Bool? {
        guard let p = value[literal.variable] else { return nil }
        return p == literal.phase
    }

    /// Starts a new decision level.
    mutating func newLevel() { levelStart.append(literals.count) }

    /// Assigns `literal` at the current level; it must be unassigned.
    mutating func assign(_ literal: Literal, reason r: Reason) {
        let v = literal.variable
        precondition(value[v] == nil, "assigning an assigned variable")
        value[v] = literal.phase
        level[v] = decisionLevel
        reason[v] = r
        position[v] = literals.count
        literals.append(literal)
        assignment[variables.neuron(v)] = literal.phase
    }

    /// Undoes every level above `target`; returns the unassigned literals (for phase saving).
    @discardableResult
    mutating func backtrack(to target: Int) -> ArraySlice<Literal> {
        guard target < decisionLevel else { return [] }
        let start = levelStart[target]
        let removed = literals[start...]
        for l in removed {
            value[l.variable] = nil
            assignment[variables.neuron(l.variable)] = nil
        }
        literals.removeSubrange(start...)
        levelStart.removeSubrange(target...)
        return removed
    }

    /// Turns the decision on `variable` into an assumption (its sub-tree's sibling was given away).
    mutating func markAssumption(_ variable: Int) { reason[variable] = .assumption }

    /// The decision (or assumption) literal that opened `level` (≥ 1).
    func decision(at level: Int) -> Literal { literals[levelStart[level - 1]] }

    /// The decisions and assumptions of levels `1 ... upTo`.
    func decisions(upTo: Int) -> [Literal] { upTo < 1 ? [] : (1...upTo).map { decision(at: $0) } }
}
