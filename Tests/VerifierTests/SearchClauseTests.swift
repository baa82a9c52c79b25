import LPAbstraction
import Network
import XCTest
@testable import Verifier

/// The SAT machinery on its own: Luby sequence, watched-literal propagation, the trail.
final class SearchClauseTests: XCTestCase {
    func testLubySequence() {
        XCTAssertEqual((1...15).map { SolverState.luby($0) }, [1, 1, 2, 1, 1, 2, 4, 1, 1, 2, 1, 1, 2, 4, 8])
    }

    func testLiteralPacking() {
        let l = Literal(variable: 7, phase: .active)
        XCTAssertEqual(l.variable, 7)
        XCTAssertEqual(l.phase, .active)
        XCTAssertEqual(l.negated.phase, .inactive)
        XCTAssertEqual(l.negated.negated, l)
    }

    /// A network with one ReLU layer of 4 neurons, for trail and clause tests.
    private func network() -> Network {
        Network(nodes: [
            Node(operation: .input, inputs: [], shape: [1]),
            Node(operation: .dense(DenseLayer(weights: Matrix(rows: 4, columns: 1, values: [1, 1, 1, 1]), bias: [0, 0, 0, 0])),
                 inputs: [0], shape: [4]),
            Node(operation: .relu, inputs: [1], shape: [4]),
        ], output: 2)
    }

    func testUnitPropagationAndConflict() {
        let net = network()
        let variables = VariableMap(network: net)
        var trail = Trail(network: net, variables: variables)
        var db = ClauseDatabase(variableCount: variables.count)
        let a = Literal(variable: 0, phase: .active), b = Literal(variable: 1, phase: .active)
        let c = Literal(variable: 2, phase: .active), d = Literal(variable: 3, phase: .active)
        // (¬a ∨ ¬b ∨ c) and (¬c ∨ d) and (¬c ∨ ¬d)
        _ = db.attach([c, a.negated, b.negated])
        _ = db.attach([d, c.negated])
        let conflicting = db.attach([d.negated, c.negated])
        var implied = 0
        trail.newLevel()
        trail.assign(a, reason: .decision)
        XCTAssertNil(db.propagate(&trail, implied: &implied))
        XCTAssertNil(trail.truth(c))
        trail.newLevel()
        trail.assign(b, reason: .decision)
        let conflict = db.propagate(&trail, implied: &implied)
        XCTAssertEqual(trail.truth(c), true, "c is implied by a ∧ b")
        XCTAssertNotNil(conflict)
        XCTAssertTrue(conflict == conflicting || conflict == 1, "one of the clauses over c and d is falsified")
        XCTAssertEqual(trail.assignment[NeuronID(layer: 0, index: 2)], .active)
        trail.backtrack(to: 1)
        XCTAssertNil(trail.truth(b))
        XCTAssertNil(trail.truth(c))
        XCTAssertEqual(trail.truth(a), true)
        XCTAssertNil(trail.assignment[NeuronID(layer: 0, index: 2)])
    }

    func testVariableMapRoundTrip() {
        let net = SearchTestInstance.random(seed: 3, inputs: 2, hidden: [3, 4], outputs: 2).network
        let map = VariableMap(network: net)
        XCTAssertEqual(map.count, 7)
        for v in 0..<map.count { XCTAssertEqual(map.variable(map.neuron(v)), v) }
        XCTAssertEqual(map.neuron(3), NeuronID(layer: 1, index: 0))
    }
}
