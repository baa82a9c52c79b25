import Network

/// One back-substitution of a search node's objective `Σ c_j y_j` over its region, kept for the
/// branching heuristics: the row that reaches each ReLU node gives BaBSR's scores, and the rows
/// below a candidate's ReLU node are all that strong branching's children change.
///
/// Built by ``BoundPropagator/branchingPass(outputCoefficients:box:assignment:bounds:)``. One pass
/// (and one back-substitution context) serves both heuristics of a decision: before, each built
/// its own context and ran its own pass from the output.
public struct BranchingPass {
    let network: Network
    let reluNodes: [Int]
    /// The region's bounds of every node.
    let nodeBounds: [LayerBounds]
    var context: BackSubstitutionContext
    /// The sound lower bound of the objective over the region.
    public let bound: Double
    /// The objective's row as the pass reached each ReLU node (by node index), before that node's
    /// relaxation: the multipliers of the node's outputs.
    let rowAtReLU: [Int: [Double]]

    init(network: Network, reluNodes: [Int], nodeBounds: [LayerBounds], context: BackSubstitutionContext,
         objective c: [Double]) {
        self.network = network
        self.reluNodes = reluNodes
        self.nodeBounds = nodeBounds
        var context = context
        var rows: [Int: [Double]] = [:]
        bound = context.lowerBounds(start: network.output, rows: c, rowCount: 1) { node, lambda, _ in
            rows[node] = lambda
        }[0]
        rowAtReLU = rows
        self.context = context
    }

    /// BaBSR-style branching scores (Bunel et al., "Branch and Bound for Piecewise Linear Neural
    /// Network Verification", JMLR 2020): per ReLU layer and neuron, an estimate of how much the
    /// bound would gain if that neuron's relaxation were exact, read off the pass. A neuron whose
    /// output enters with multiplier `λ < 0` is bounded by the triangle's upper face, and the
    /// bound pays `−λ · intercept`; one with `λ > 0` is bounded by its lower line, which misses the
    /// ReLU by up to `min(u, −l)` (a secondary estimate, half weight). Stable and fixed neurons
    /// score 0. Unlike a static influence estimate, the multipliers follow the region's own
    /// relaxation (on convolutional networks a neuron's influence depends on where it sits).
    public var babsrScores: [[Double]] {
        reluNodes.map { node in
            var scores = [Double](repeating: 0, count: network.nodes[node].size)
            guard let lambda = rowAtReLU[node], let relaxation = context.relaxations[node] else { return scores }
            let x = nodeBounds[network.nodes[node].inputs[0]]
            for e in lambda.indices where relaxation.isUnstable[e] {
                let lam = lambda[e]
                scores[e] = lam < 0 ? -lam * relaxation.upperIntercept[e] : 0.5 * lam * Swift.min(x.upper[e], -x.lower[e])
            }
            return scores
        }
    }

    /// Estimates of the objective's lower bound in the two children of each split in `splits`
    /// (the region with one more neuron fixed active, and with it fixed inactive), for strong
    /// branching: they rank candidates and refute nothing.
    ///
    /// The node's bounds stay as they are for every child and only the split neuron's relaxation
    /// becomes its exact piece, so the back-substitution from the output down to the neuron's
    /// ReLU node is the node's own for every child. Per ReLU layer with candidates, one multi-row
    /// pass from its pre-activations carries the node's row and each child's (one entry changed)
    /// to the input; a child's estimate is the node's bound plus the difference of the two, plus
    /// the triangle intercept the split removes. In real arithmetic that is the child's bound
    /// computed afresh (the rounding slacks differ). Against a pass from the output per child
    /// (one thread, branching time per search node): mnistfc 256x6 prop_6_0.05 1.34 → 0.48 ms;
    /// oval21 cifar_wide_kw img19 only 2.29 → 1.94 ms, as its candidates sit in the second
    /// convolution, below which lies most of a pass.
    public mutating func childEstimates(splits: [NeuronID]) -> [(active: Double, inactive: Double)] {
        var children = [(active: Double, inactive: Double)](repeating: (bound, bound), count: splits.count)
        for relu in Set(splits.map { reluNodes[$0.layer] }).sorted() {
            // A row that never reached the node leaves the objective independent of its neurons.
            guard let lambda = rowAtReLU[relu], let relaxation = context.relaxations[relu] else { continue }
            let members = splits.indices.filter { reluNodes[splits[$0].layer] == relu }
            // The node's row at the pre-activations: each neuron through the face its sign selects.
            let width = lambda.count
            var rows = [Double](repeating: 0, count: width)
            rows.reserveCapacity(width * (1 + 2 * members.count))
            for e in lambda.indices {
                rows[e] = lambda[e] * (lambda[e] >= 0 ? relaxation.lowerSlope[e] : relaxation.upperSlope[e])
            }
            for q in members {
                for phaseSlope in [1.0, 0.0] {
                    let offset = rows.count
                    rows.append(contentsOf: rows[0..<width])
                    rows[offset + splits[q].index] = lambda[splits[q].index] * phaseSlope
                }
            }
            let b = context.lowerBounds(start: network.nodes[relu].inputs[0], rows: rows, rowCount: 1 + 2 * members.count)
            for (k, q) in members.enumerated() {
                let i = splits[q].index
                let intercept = lambda[i] < 0 ? -lambda[i] * relaxation.upperIntercept[i] : 0
                children[q] = (active: bound + (b[1 + 2 * k] - b[0]) + intercept,
                               inactive: bound + (b[2 + 2 * k] - b[0]) + intercept)
            }
        }
        return children
    }
}
