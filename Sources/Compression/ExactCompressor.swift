import LPAbstraction
import Network

/// What compression did to one ReLU layer.
public struct LayerReport: Sendable, Codable, Equatable {
    /// Neurons before.
    public var neuronsBefore: Int
    /// Neurons after (0 when the layer was merged away).
    public var neuronsAfter: Int
    /// Stably inactive neurons removed.
    public var removedInactive: Int
    /// Stably active neurons folded into the next layer (linearly dependent on kept ones).
    public var foldedActive: Int
    /// Stably active neurons kept (a basis of the active rows).
    public var keptActive: Int
    /// Whether the layer was entirely linear on the domain and merged with the next one.
    public var merged: Bool
    /// Largest |W_D − K W_B| entry accepted when folding (0 when nothing was folded).
    public var foldResidual: Double
}

/// The result of exact compression.
public struct CompressionResult: Sendable {
    /// The compressed network; it computes the same function as the original on the domain.
    public var network: Network
    /// One report per ReLU layer of the original network.
    public var layers: [LayerReport]
    /// Whether the output is constant on the domain (some layer was entirely inactive).
    public var isConstant: Bool
    /// Weights + biases before and after.
    public var parametersBefore: Int, parametersAfter: Int
    /// Non-zero weights before and after.
    public var connectionsBefore: Int, connectionsAfter: Int
}

/// Rewrites a dense ReLU network using *proved* stable phases: removes stably inactive neurons,
/// folds stably active neurons whose weight rows depend linearly on other active rows into the
/// next layer, and merges a layer that is entirely stably active into its neighbours when that
/// lowers the parameter count (Serra et al., CPAIOR 2020 / NeurIPS 2021).
public struct ExactCompressor: Sendable {
    /// A row is folded only when its weight row lies in the span of the kept rows to within
    /// this relative tolerance (QR with column pivoting decides the rank with it).
    public var rankTolerance: Double = 1e-10

    /// Creates a compressor.
    public init() {}

    /// Compresses `network` given `stable`, where a set phase means that neuron was proved to
    /// be in that phase for every input of the domain (a `nil` phase keeps the neuron).
    public func compress(_ network: Network, stable: PhaseAssignment) throws -> CompressionResult {
        var chain = try DenseChain(network)
        guard stable.phases.count == chain.layers.count - 1,
              zip(stable.phases, chain.layers).allSatisfy({ $0.count == $1.weights.rows }) else {
            throw CompressionError.classificationMismatch("expected \(chain.layers.count - 1) ReLU layers of sizes \(chain.layers.dropLast().map { $0.weights.rows })")
        }
        let before = Self.counts(chain.layers)
        var reports: [LayerReport] = []
        var isConstant = false
        // `k` indexes the chain as it shrinks; `phases` is re-indexed as neurons go.
        var k = 0
        for original in stable.phases.indices {
            var phases = stable.phases[original]
            var report = LayerReport(neuronsBefore: phases.count, neuronsAfter: 0, removedInactive: 0,
                                     foldedActive: 0, keptActive: 0, merged: false, foldResidual: 0)
            let inactive = phases.indices.filter { phases[$0] == .inactive }
            report.removedInactive = inactive.count
            remove(inactive, from: &chain, layer: k)
            phases = phases.enumerated().filter { $0.element != .inactive }.map(\.element)
            if phases.isEmpty {
                // Every neuron is off: the rest of the network sees zeros, so the output is constant.
                isConstant = true
                chain.layers = [Self.constantLayer(chain: chain, emptiedLayer: k, inputSize: chain.layers[0].weights.columns)]
                chain.names = [chain.names.last ?? "output"]
                reports.append(report)
                break
            }
            let active = phases.indices.filter { phases[$0] == .active }
            let (folded, residual) = foldDependent(active, in: &chain, layer: k)
            report.foldedActive = folded.count
            report.keptActive = active.count - folded.count
            report.foldResidual = residual
            let foldedSet = Set(folded)
            phases = phases.enumerated().filter { !foldedSet.contains($0.offset) }.map(\.element)
            report.neuronsAfter = phases.count
            if phases.allSatisfy({ $0 == .active }) && mergeIfSmaller(&chain, layer: k) {
                report.merged = true
                report.neuronsAfter = 0
            } else {
                k += 1
            }
            reports.append(report)
        }
        if isConstant {
            while reports.count < stable.phases.count {
                let n = stable.phases[reports.count].count
                reports.append(LayerReport(neuronsBefore: n, neuronsAfter: 0, removedInactive: 0, foldedActive: 0,
                                           keptActive: 0, merged: true, foldResidual: 0))
            }
        }
        let after = Self.counts(chain.layers)
        return CompressionResult(network: chain.network(like: network), layers: reports, isConstant: isConstant,
                                 parametersBefore: before.parameters, parametersAfter: after.parameters,
                                 connectionsBefore: before.connections, connectionsAfter: after.connections)
    }

    /// Deletes neurons of ReLU layer `k`: their rows of dense `k` and columns of dense `k+1`.
    private func remove(_ neurons: [Int], from chain: inout DenseChain, layer k: Int) {
        guard !neurons.isEmpty else { return }
        let drop = Set(neurons)
        let keep = (0..<chain.layers[k].weights.rows).filter { !drop.contains($0) }
        let w = chain.layers[k].weights
        chain.layers[k] = DenseLayer(
            weights: Matrix(rows: keep.count, columns: w.columns, values: keep.flatMap { w.row($0) }),
            bias: keep.map { chain.layers[k].bias[$0] })
        let next = chain.layers[k + 1].weights
        var values: [Double] = []
        values.reserveCapacity(next.rows * keep.count)
        for i in 0..<next.rows { for j in keep { values.append(next[i, j]) } }
        chain.layers[k + 1].weights = Matrix(rows: next.rows, columns: keep.count, values: values)
    }

    /// Folds active neurons whose rows depend on other active rows into layer `k+1`; returns the
    /// folded neurons (indices into layer `k` before removal) and the largest residual accepted.
    private func foldDependent(_ active: [Int], in chain: inout DenseChain, layer k: Int) -> ([Int], Double) {
        guard active.count > 1 else { return ([], 0) }
        let w = chain.layers[k].weights
        // Columns of `rowsAsColumns` are the weight rows of the active neurons.
        var rowsAsColumns = Matrix(rows: w.columns, columns: active.count)
        for (c, neuron) in active.enumerated() { for j in 0..<w.columns { rowsAsColumns[j, c] = w[neuron, j] } }
        let qr = PivotedQR(rowsAsColumns, relativeTolerance: rankTolerance)
        guard qr.rank < active.count, qr.rank > 0 else { return ([], 0) }
        let basis = qr.permutation[..<qr.rank].map { active[$0] }.sorted()
        let dependent = qr.permutation[qr.rank...].map { active[$0] }.sorted()
        var a = Matrix(rows: w.columns, columns: basis.count)
        var b = Matrix(rows: w.columns, columns: dependent.count)
        for j in 0..<w.columns {
            for (c, n) in basis.enumerated() { a[j, c] = w[n, j] }
            for (c, n) in dependent.enumerated() { b[j, c] = w[n, j] }
        }
        guard let kT = leastSquares(a, b) else { return ([], 0) }
        // Accept a dependent row only if the basis reproduces it to the tolerance; otherwise keep it.
        let scale = w.values.reduce(0) { max($0, abs($1)) }
        let reproduced = a.multiplied(by: kT)
        var accepted: [Int] = []
        var residual = 0.0
        for (c, _) in dependent.enumerated() {
            var worst = 0.0
            for j in 0..<w.columns { worst = max(worst, abs(reproduced[j, c] - b[j, c])) }
            if worst <= rankTolerance * max(scale, 1) { accepted.append(c); residual = max(residual, worst) }
        }
        guard !accepted.isEmpty else { return ([], 0) }
        // h_D = K (h_B − b_B) + b_D on the domain, and ReLU is the identity on all of them there,
        // so W'[:,D] h_D moves into W'[:,B] and the bias.
        let bias = chain.layers[k].bias
        var next = chain.layers[k + 1]
        for c in accepted {
            let d = dependent[c]
            var offset = bias[d]
            for (bi, bn) in basis.enumerated() { offset -= kT[bi, c] * bias[bn] }
            for i in 0..<next.weights.rows {
                let coefficient = next.weights[i, d]
                if coefficient == 0 { continue }
                for (bi, bn) in basis.enumerated() { next.weights[i, bn] += coefficient * kT[bi, c] }
                next.bias[i] += coefficient * offset
                next.weights[i, d] = 0
            }
        }
        chain.layers[k + 1] = next
        let folded = accepted.map { dependent[$0] }
        remove(folded, from: &chain, layer: k)
        return (folded, residual)
    }

    /// Replaces dense `k` and dense `k+1` (with an identity ReLU between) by their product when
    /// the product has fewer parameters.
    private func mergeIfSmaller(_ chain: inout DenseChain, layer k: Int) -> Bool {
        let first = chain.layers[k], second = chain.layers[k + 1]
        let merged = second.weights.multiplied(by: first.weights)
        let before = first.weights.values.count + first.bias.count + second.weights.values.count + second.bias.count
        guard merged.values.count + second.bias.count < before else { return false }
        let bias = zip(second.weights.multiplied(by: first.bias), second.bias).map { $0 + $1 }
        chain.layers.replaceSubrange(k...(k + 1), with: [DenseLayer(weights: merged, bias: bias)])
        chain.names.remove(at: k)
        return true
    }

    /// The single affine layer `0·x + c` for a chain whose ReLU layer `k` has no neurons left:
    /// dense `k+1` then outputs its bias whatever the input, and the rest follows from it.
    private static func constantLayer(chain: DenseChain, emptiedLayer k: Int, inputSize: Int) -> DenseLayer {
        var value = chain.layers[k + 1].bias
        for layer in chain.layers[(k + 2)...] {
            value = zip(layer.weights.multiplied(by: value.map { max($0, 0) }), layer.bias).map { $0 + $1 }
        }
        return DenseLayer(weights: Matrix(rows: value.count, columns: inputSize), bias: value)
    }

    private static func counts(_ layers: [DenseLayer]) -> (parameters: Int, connections: Int) {
        layers.reduce((0, 0)) { ($0.0 + $1.weights.values.count + $1.bias.count, $0.1 + $1.weights.values.filter { $0 != 0 }.count) }
    }
}
