import CGLPK
import Network
@testable import LPAbstraction

/// Exact minimisation by enumerating activation patterns of a tiny dense network: for each
/// pattern the network is affine on the inputs that realise it, so one LP per pattern (solved with
/// GLPK directly, independently of ``LPRelaxation``) gives the exact minimum on that piece.
struct BruteForce {
    let network: Network
    let box: Box

    /// The minimum of `Σ c_j y_j` over the box and the inputs agreeing with `assignment`, or `nil`
    /// when no input agrees; also returns the number of feasible patterns.
    func minimum(outputCoefficients c: [Double], assignment: PhaseAssignment? = nil) -> Double? {
        var best: Double?
        for pattern in patterns(agreeingWith: assignment) {
            if let v = solve(pattern: pattern, objective: c) { best = Swift.min(best ?? .infinity, v) }
        }
        return best
    }

    /// Whether any input of the box realises a pattern agreeing with `assignment`.
    func isFeasible(_ assignment: PhaseAssignment) -> Bool {
        patterns(agreeingWith: assignment).contains { solve(pattern: $0, objective: [Double](repeating: 0, count: network.outputSize)) != nil }
    }

    func patterns(agreeingWith assignment: PhaseAssignment?) -> [[[Phase]]] {
        let sizes = network.reluNodes.map { network.nodes[$0].size }
        let total = sizes.reduce(0, +)
        precondition(total <= 14, "brute force is for tiny networks")
        var result: [[[Phase]]] = []
        outer: for mask in 0..<(1 << total) {
            var bit = 0
            var pattern: [[Phase]] = []
            for (layer, size) in sizes.enumerated() {
                var phases: [Phase] = []
                for i in 0..<size {
                    let phase: Phase = mask & (1 << bit) != 0 ? .active : .inactive
                    if let fixed = assignment?.phases[layer][i], fixed != phase { continue outer }
                    phases.append(phase)
                    bit += 1
                }
                pattern.append(phases)
            }
            result.append(pattern)
        }
        return result
    }

    /// The exact minimum on one pattern's piece, or `nil` if the piece is empty. Each node value is
    /// carried as an affine function `A x + a` of the input (in `Double`; the networks are tiny).
    func solve(pattern: [[Phase]], objective c: [Double]) -> Double? {
        let n = network.inputSize
        var affine: [(A: [[Double]], a: [Double])] = []
        var constraints: [(row: [Double], constant: Double, nonNegative: Bool)] = []
        var reluLayer = 0
        for node in network.nodes {
            switch node.operation {
            case .input:
                affine.append(((0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0 } }, [Double](repeating: 0, count: n)))
            case .dense(let d):
                let (A, a) = affine[node.inputs[0]]
                var B: [[Double]] = [], b: [Double] = []
                for i in 0..<d.weights.rows {
                    var row = [Double](repeating: 0, count: n)
                    var constant = d.bias[i]
                    for j in 0..<d.weights.columns {
                        let w = d.weights[i, j]
                        for k in 0..<n { row[k] += w * A[j][k] }
                        constant += w * a[j]
                    }
                    B.append(row)
                    b.append(constant)
                }
                affine.append((B, b))
            case .relu:
                let (A, a) = affine[node.inputs[0]]
                var B = A, b = a
                for i in 0..<node.size {
                    let active = pattern[reluLayer][i] == .active
                    constraints.append((A[i], a[i], active))
                    if !active { B[i] = [Double](repeating: 0, count: n); b[i] = 0 }
                }
                affine.append((B, b))
                reluLayer += 1
            default:
                preconditionFailure("brute force handles dense networks only")
            }
        }
        let (A, a) = affine[network.output]
        var objective = [Double](repeating: 0, count: n)
        var offset = 0.0
        for j in c.indices {
            for k in 0..<n { objective[k] += c[j] * A[j][k] }
            offset += c[j] * a[j]
        }

        glp_term_out(GLP_OFF)
        let lp = glp_create_prob()!
        defer { glp_delete_prob(lp) }
        glp_add_cols(lp, Int32(n))
        for k in 0..<n {
            glp_set_col_bnds(lp, Int32(k + 1), box.lower[k] == box.upper[k] ? GLP_FX : GLP_DB, box.lower[k], box.upper[k])
            glp_set_obj_coef(lp, Int32(k + 1), objective[k])
        }
        if !constraints.isEmpty {
            glp_add_rows(lp, Int32(constraints.count))
            for (r, constraint) in constraints.enumerated() {
                var ind: [Int32] = [0] + (1...n).map { Int32($0) }
                var val: [Double] = [0] + constraint.row
                glp_set_mat_row(lp, Int32(r + 1), Int32(n), &ind, &val)
                if constraint.nonNegative {
                    glp_set_row_bnds(lp, Int32(r + 1), GLP_LO, -constraint.constant, 0)
                } else {
                    glp_set_row_bnds(lp, Int32(r + 1), GLP_UP, 0, -constraint.constant)
                }
            }
        }
        var parameters = glp_smcp()
        glp_init_smcp(&parameters)
        parameters.msg_lev = GLP_MSG_OFF
        guard glp_simplex(lp, &parameters) == 0 else { return nil }
        guard glp_get_status(lp) == GLP_OPT else { return nil }
        return glp_get_obj_val(lp) + offset
    }
}
