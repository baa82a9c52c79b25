import Network

/// The outcome of ``BoundPropagator/optimizedLowerBound(outputCoefficients:box:assignment:bounds:iterations:deadline:initialSlopes:stopAbove:learningRate:learningRateDecay:optimizingSplits:initialBetas:betaLearningRate:)``.
public struct OptimizedLowerBound: Sendable {
    /// A sound lower bound of `c·y` over the region: the larger of the bound with ``slopes`` and
    /// the default (adaptive-slope) bound, both computed by the rounded back-substitution of
    /// ``BoundPropagator/lowerBound(outputCoefficients:box:assignment:bounds:lowerSlopes:)``.
    /// `+∞` when the region is empty.
    public var bound: Double
    /// The sound default (adaptive-slope) bound, for comparison.
    public var defaultBound: Double
    /// The lower slope of every neuron's relaxation behind ``bound`` (`slopes[layer][index]`, in
    /// ``Network/reluNodes`` order): the optimised slope of each unstable neuron, the exact slope
    /// (1 active, 0 inactive) of stable or fixed ones. Pass it as `initialSlopes` to warm-start a
    /// child region, or as `lowerSlopes` to the bound functions.
    public var slopes: [[Double]]
    /// The beta-CROWN multipliers of the assignment's phase constraints behind ``bound``
    /// (`betas[layer][index] ≥ 0`, 0 for free neurons), or `nil` when they were not optimised
    /// (or the default bound won). Pass them as `initialBetas` to warm-start a child region.
    public var betas: [[Double]]? = nil
    /// Gradient steps taken (fewer than asked when the deadline or `stopAbove` ended the run).
    public var iterations: Int
}

extension BoundPropagator {
    /// A lower bound of `Σ c_j y_j` over the box ∧ assignment, maximised over the lower slopes of
    /// the unstable ReLUs (alpha-CROWN), with the intermediate `bounds` held fixed.
    ///
    /// Every lower slope in `[0, 1]` gives a sound bound, so the slopes are free parameters: the
    /// search runs projected Adam ascent on the back-substituted bound, with the exact gradient
    /// from one backward pass (the coefficients) and one forward pass (the relaxed network at the
    /// minimising input corner), in unrounded `Double`. Only the final bound has to be sound, and
    /// it comes from the rounded ``lowerBound(outputCoefficients:box:assignment:bounds:lowerSlopes:)``
    /// with the best slopes found, never below the default bound. Works on every node kind
    /// (dense, convolution, elementwise affine, residual add).
    ///
    /// - Parameters:
    ///   - c: the output coefficients.
    ///   - bounds: sound bounds from ``bounds(box:assignment:method:)`` for the same box and
    ///     assignment (or tighter sound ones); they fix which neurons are unstable and their
    ///     upper relaxations.
    ///   - iterations: gradient steps; 0 just evaluates the initial slopes.
    ///   - deadline: stop stepping once passed (the sound bound is still computed).
    ///   - initialSlopes: slopes to start from (e.g. the parent region's ``OptimizedLowerBound/slopes``);
    ///     non-finite entries, and `nil`, start from the adaptive slope.
    ///   - stopAbove: stop once the estimate clearly exceeds this value (e.g. a constraint's
    ///     right-hand side, which the bound then refutes).
    ///   - learningRate: Adam's first step size (slopes live in `[0, 1]`). On mnistfc 256x2/256x4,
    ///     0.2 leaves 1.6 to 4 times less of the gap to the LP after 20 steps than alpha-CROWN's 0.1.
    ///   - learningRateDecay: factor applied to the step size after every step.
    ///   - optimizingSplits: also optimise beta-CROWN multipliers `β_i ≥ 0` of the assignment's
    ///     phase constraints (`x_i ≥ 0` active, `x_i ≤ 0` inactive), added to the Lagrangian as
    ///     `∓β_i·x_i`. Clipping a fixed neuron's bounds only makes its own relaxation exact; the
    ///     constraint on the earlier layers that feed it is what the multipliers bring back, which
    ///     is how a bound alone comes close to the LP with the same fixed phases. The gradient is
    ///     `∓z_{x_i}` at the minimiser; the sound bound again comes from the rounded pass.
    ///   - initialBetas: multipliers to start from (e.g. the parent region's ``OptimizedLowerBound/betas``).
    ///   - betaLearningRate: Adam's first step size for the multipliers.
    ///   - abandoningUnreachable: stop early once the recent rate of improvement, kept up over
    ///     twice the steps left, would not bring the estimate to `stopAbove` (see
    ///     ``SlopeOptimizer/run(iterations:deadline:stopAbove:learningRate:decay:betaLearningRate:abandonUnreachable:)``).
    ///   - knownDefaultBound: the default (adaptive-slope) bound, when the caller has just computed
    ///     it for the same box, assignment and `bounds` (it must be that sound bound: the result is
    ///     never below it); `nil` computes it.
    public func optimizedLowerBound(outputCoefficients c: [Double], box: Box, assignment: PhaseAssignment?,
                                    bounds: NetworkBounds, iterations: Int = 20,
                                    deadline: ContinuousClock.Instant? = nil,
                                    initialSlopes: [[Double]]? = nil,
                                    stopAbove: Double = .infinity,
                                    learningRate: Double = 0.2,
                                    learningRateDecay: Double = 0.98,
                                    optimizingSplits: Bool = false,
                                    initialBetas: [[Double]]? = nil,
                                    betaLearningRate: Double = 0.05,
                                    abandoningUnreachable: Bool = false,
                                    knownDefaultBound: Double? = nil) -> OptimizedLowerBound {
        precondition(c.count == network.outputSize, "expected \(network.outputSize) output coefficients, got \(c.count)")
        let defaultBound = knownDefaultBound
            ?? lowerBound(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds, lowerSlopes: nil)
        guard !bounds.isInfeasible, defaultBound < .infinity,
              let nodeBounds = regionBounds(box: box, assignment: assignment, bounds: bounds) else {
            let fallback = initialSlopes ?? network.reluNodes.map { [Double](repeating: 0, count: network.nodes[$0].size) }
            return OptimizedLowerBound(bound: .infinity, defaultBound: .infinity, slopes: fallback, iterations: 0)
        }
        let splitSigns = optimizingSplits
            ? splitMultipliers(betas: reluNodes.map { [Double](repeating: 1, count: network.nodes[$0].size) },
                               assignment: assignment)
            : nil
        var optimizer = SlopeOptimizer(network: network, reluNodes: reluNodes, objective: c,
                                       nodeBounds: nodeBounds, initialSlopes: initialSlopes,
                                       splitSigns: splitSigns, initialBetas: initialBetas,
                                       singlePrecisionWeights: optimizesInSinglePrecision ? singlePrecisionWeights : nil)
        guard optimizer.parameterCount + optimizer.betaCount > 0 else {
            return OptimizedLowerBound(bound: defaultBound, defaultBound: defaultBound, slopes: optimizer.slopes(), iterations: 0)
        }
        let steps = optimizer.run(iterations: iterations, deadline: deadline, stopAbove: stopAbove,
                                  learningRate: learningRate, decay: learningRateDecay, betaLearningRate: betaLearningRate,
                                  abandonUnreachable: abandoningUnreachable)
        let best = optimizer.slopes()
        let betas = optimizer.betaCount > 0 ? optimizer.betas() : nil
        let optimized = lowerBounds(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds,
                                    slopeSets: [best], betas: betas)[0]
        if optimized >= defaultBound {
            return OptimizedLowerBound(bound: optimized, defaultBound: defaultBound, slopes: best, betas: betas,
                                       iterations: steps)
        }
        optimizer.resetToAdaptive()
        return OptimizedLowerBound(bound: defaultBound, defaultBound: defaultBound, slopes: optimizer.slopes(), iterations: steps)
    }

}

/// Projected Adam ascent on the back-substituted lower bound of one objective over the lower
/// slopes of the unstable ReLUs.
///
/// The bound is `B(α) = Σ_j Λ_j·b_j + Σ_{λ<0} λ·intercept + Λ_0·centre − |Λ_0|·radius`, where the
/// coefficient rows `Λ_j` come from back-substituting `c` with lower slope `α_i` wherever the
/// coefficient of a ReLU output is non-negative. Reverse-mode differentiation of that backward
/// pass is a forward pass: the adjoint of `Λ_j` is the value `z_j` of node `j` in the *linear*
/// network that replaces each ReLU by the relaxation piece back-substitution chose, evaluated at
/// the input corner `x* = centre − sign(Λ_0)·radius` that attains the minimum. Hence
/// `∂B/∂α_i = λ_i · z_{p(i)}` for a neuron whose ReLU-output coefficient `λ_i` is positive (and 0
/// otherwise), with `z_{p(i)}` the neuron's pre-activation in that linear network. The pieces in
/// use are locally constant in `α`, so this is the exact derivative almost everywhere.
///
/// All vectors live in flat buffers indexed by `offset[node] + index`, reused across iterations.
struct SlopeOptimizer {
    /// Steps over which the recent gain is measured for `abandonUnreachable` in ``run(iterations:deadline:stopAbove:learningRate:decay:betaLearningRate:abandonUnreachable:)``.
    static let unreachableWindow = 4
    /// How many times the steps left the recent gain is assumed to last.
    static let unreachableSlack = 2.0
    let network: Network
    let objective: [Double]
    /// Nodes `0...network.output` matter; later ones (if any) do not feed the output.
    let nodeCount: Int
    let offset: [Int]
    /// Per ReLU node position: lower slope, upper slope and upper intercept of the relaxation.
    var lowerSlope: [Double]
    let upperSlope: [Double]
    let upperIntercept: [Double]
    /// Every upper slope and intercept is finite (see ``ReLURelaxation/isFinite``).
    let relaxationIsFinite: Bool
    /// Adaptive (DeepPoly) slope per ReLU node position, for resets.
    let adaptiveSlope: [Double]
    /// The parameters: flat positions (in a ReLU node) of the unstable neurons, and of their
    /// pre-activations.
    let parameterPosition: [Int]
    let preActivationPosition: [Int]
    let reluNodes: [Int]
    /// The split parameters (beta-CROWN): per multiplier, the flat position of the neuron's
    /// pre-activation, the sign `s` of its term `s·β·x` (−1 active, +1 inactive), its ReLU layer
    /// and index; per ReLU node, the range of its multipliers.
    let betaPosition: [Int]
    let betaSign: [Double]
    let betaLayer: [Int]
    let betaIndex: [Int]
    let betaRange: [Int: Range<Int>]
    var beta: [Double]
    let centre: [Double]
    let radius: [Double]
    let geometries: [Int: ConvolutionGeometry]
    /// Per dense node read only by a ReLU: the outputs that matter (the ReLU is not stably
    /// inactive there, or a split multiplier reads the pre-activation) and those rows of the
    /// weights, gathered once per optimisation. Elsewhere a coefficient is always zero (slopes 0 on
    /// both sides) and a value is never read, so both passes skip them: often half of each matrix,
    /// which matrix-vector products read from memory at every step.
    let liveRows: [Int: (rows: [Int], weights: [Double])]
    /// Gathered coefficients or values of the live rows.
    var liveScratch: [Double]
    /// With single-precision products: per dense node, the rows that matter (`nil`: all) and
    /// those rows of the weights as `Float`. Used instead of ``liveRows``.
    let singleRows: [Int: (rows: [Int]?, weights: [Float])]
    /// A dense product's input and output in single precision.
    var singleIn: [Float]
    var singleOut: [Float]
    /// Coefficient rows and forward values, one flat vector each.
    var lambda: [Double]
    var value: [Double]
    var reached: [Bool]
    /// The derivative by each slope parameter, then by each multiplier.
    var gradient: [Double]

    var parameterCount: Int { parameterPosition.count }
    var betaCount: Int { betaPosition.count }

    /// `splitSigns` (per ReLU node, per neuron: −1, +1 or 0) turns on the multipliers of the
    /// neurons with a non-zero sign, starting from `initialBetas` (0 when `nil`).
    /// `singlePrecisionWeights` (every dense node's weights as `Float`, by node) makes the dense
    /// products single-precision: the estimate and its gradient then carry `Float` rounding
    /// (relative 1e-6 or so), which steers the ascent no worse, at half the memory traffic.
    init(network: Network, reluNodes: [Int], objective: [Double], nodeBounds: [LayerBounds], initialSlopes: [[Double]]?,
         splitSigns: [Int: [Double]]? = nil, initialBetas: [[Double]]? = nil,
         singlePrecisionWeights: [Int: [Float]]? = nil) {
        self.network = network
        self.objective = objective
        nodeCount = network.output + 1
        var offset = [Int](), total = 0
        for k in 0..<nodeCount {
            offset.append(total)
            total += network.nodes[k].size
        }
        self.offset = offset
        var lower = [Double](repeating: 0, count: total), upper = lower, intercept = lower
        var parameters: [Int] = [], preActivations: [Int] = []
        var parameterLayer: [Int] = [], parameterIndex: [Int] = []
        var betaPosition: [Int] = [], betaSign: [Double] = [], betaLayer: [Int] = [], betaIndex: [Int] = []
        var betaRange: [Int: Range<Int>] = [:]
        var beta: [Double] = []
        var geometries: [Int: ConvolutionGeometry] = [:]
        for k in 1..<nodeCount {
            switch network.nodes[k].operation {
            case .convolution(let conv):
                geometries[k] = ConvolutionGeometry(conv)
            case .relu:
                let layer = reluNodes.firstIndex(of: k)!
                let p = network.nodes[k].inputs[0]
                let relaxation = ReLURelaxation(preActivation: nodeBounds[p], lowerSlopes: nil)
                for e in 0..<network.nodes[k].size {
                    lower[offset[k] + e] = relaxation.lowerSlope[e]
                    upper[offset[k] + e] = relaxation.upperSlope[e]
                    intercept[offset[k] + e] = relaxation.upperIntercept[e]
                    if nodeBounds[p].lower[e] < 0 && nodeBounds[p].upper[e] > 0 {
                        parameters.append(offset[k] + e)
                        preActivations.append(offset[p] + e)
                        parameterLayer.append(layer)
                        parameterIndex.append(e)
                    }
                }
                if let signs = splitSigns?[k] {
                    let first = betaPosition.count
                    for e in 0..<network.nodes[k].size where signs[e] != 0 {
                        // The rounded pass uses a multiplier only where the bounds prove its sign.
                        guard signs[e] < 0 ? nodeBounds[p].lower[e] >= 0 : nodeBounds[p].upper[e] <= 0 else { continue }
                        betaPosition.append(offset[p] + e)
                        betaSign.append(signs[e] < 0 ? -1 : 1)
                        betaLayer.append(layer)
                        betaIndex.append(e)
                        let start = initialBetas.flatMap { layer < $0.count && e < $0[layer].count ? $0[layer][e] : nil } ?? 0
                        beta.append(start.isFinite ? Swift.max(start, 0) : 0)
                    }
                    if betaPosition.count > first { betaRange[k] = first..<betaPosition.count }
                }
            default:
                break
            }
        }
        adaptiveSlope = lower
        for (q, position) in parameters.enumerated() {
            if let alpha = initialSlopes?[parameterLayer[q]][parameterIndex[q]], alpha.isFinite {
                lower[position] = Swift.min(Swift.max(alpha, 0), 1)
            }
        }
        lowerSlope = lower
        upperSlope = upper
        upperIntercept = intercept
        relaxationIsFinite = !upper.contains { !$0.isFinite } && !intercept.contains { !$0.isFinite }
        parameterPosition = parameters
        preActivationPosition = preActivations
        self.betaPosition = betaPosition
        self.betaSign = betaSign
        self.betaLayer = betaLayer
        self.betaIndex = betaIndex
        self.betaRange = betaRange
        self.beta = beta
        self.reluNodes = reluNodes
        self.geometries = geometries
        var readers = [Int](repeating: 0, count: nodeCount)
        for k in 1..<nodeCount { for p in network.nodes[k].inputs { readers[p] += 1 } }
        let multiplied = Set(betaPosition)
        var liveRowIndices: [Int: [Int]] = [:]
        for k in 1..<nodeCount {
            guard case .relu = network.nodes[k].operation else { continue }
            let p = network.nodes[k].inputs[0]
            guard readers[p] == 1, case .dense(let d) = network.nodes[p].operation else { continue }
            let rows = (0..<network.nodes[k].size).filter {
                upper[offset[k] + $0] != 0 || lower[offset[k] + $0] != 0 || multiplied.contains(offset[p] + $0)
            }
            guard rows.count < d.weights.rows - d.weights.rows / 8 else { continue }
            liveRowIndices[p] = rows
        }
        var liveRows: [Int: (rows: [Int], weights: [Double])] = [:]
        var singleRows: [Int: (rows: [Int]?, weights: [Float])] = [:]
        var widest = 0
        for k in 1..<nodeCount {
            guard case .dense(let d) = network.nodes[k].operation else { continue }
            let n = d.weights.columns
            widest = Swift.max(widest, n, d.weights.rows)
            let rows = liveRowIndices[k]
            if let all = singlePrecisionWeights?[k] {
                singleRows[k] = (rows, rows.map { Self.gather($0, of: all, columns: n) } ?? all)
            } else if let rows {
                liveRows[k] = (rows, Self.gather(rows, of: d.weights.values, columns: n))
            }
        }
        self.liveRows = liveRows
        self.singleRows = singleRows
        liveScratch = [Double](repeating: 0, count: liveRows.values.map(\.rows.count).max() ?? 0)
        singleIn = [Float](repeating: 0, count: singleRows.isEmpty ? 0 : widest)
        singleOut = singleIn
        (centre, radius, _) = IntervalArithmetic.centreRadius(nodeBounds[0])
        lambda = [Double](repeating: 0, count: total)
        value = lambda
        reached = [Bool](repeating: false, count: nodeCount)
        gradient = [Double](repeating: 0, count: parameters.count + betaPosition.count)
    }

    /// The given rows of a row-major matrix with `columns` columns, one after another.
    private static func gather<T>(_ rows: [Int], of matrix: [T], columns n: Int) -> [T] {
        var result: [T] = []
        result.reserveCapacity(rows.count * n)
        for i in rows { result.append(contentsOf: matrix[(i * n)..<((i + 1) * n)]) }
        return result
    }

    /// The current lower slopes in ``BoundPropagator`` layout.
    func slopes() -> [[Double]] {
        reluNodes.map { k in
            // A ReLU that does not feed the output has no relaxation here; its slope is unused.
            k < nodeCount ? Array(lowerSlope[offset[k]..<(offset[k] + network.nodes[k].size)])
                          : [Double](repeating: 0, count: network.nodes[k].size)
        }
    }

    /// The current multipliers in ``BoundPropagator`` layout (per ReLU layer, 0 where none).
    func betas() -> [[Double]] {
        var result = reluNodes.map { [Double](repeating: 0, count: network.nodes[$0].size) }
        for q in beta.indices { result[betaLayer[q]][betaIndex[q]] = beta[q] }
        return result
    }

    mutating func resetToAdaptive() {
        lowerSlope = adaptiveSlope
        for q in beta.indices { beta[q] = 0 }
    }

    /// Projected Adam ascent from the current slopes (in `[0, 1]`) and multipliers (`≥ 0`);
    /// leaves the best ones seen (by the unrounded estimate) in place and returns the number of
    /// steps taken.
    ///
    /// With `abandonUnreachable`, a run stops once the gain of the last
    /// ``unreachableWindow`` steps, kept up for ``unreachableSlack`` times the steps left, would
    /// not lift the estimate to `stopAbove`: at a search node that will be split anyway the rest
    /// of the steps are wasted (its children start from the multipliers reached so far). Measured
    /// on one thread: oval21 cifar_deep_kw img5168 unsat in 62.0 → 32.7 s, cifar_base_kw img6638
    /// 62.3 → 49.8 s, mnistfc 256x2 prop_3_0.03 9.9 → 8.3 s, 256x4 prop_0_0.03 14.6 → 15.2 s
    /// (slack 1 or 4 instead of 2: within a few seconds of it).
    mutating func run(iterations: Int, deadline: ContinuousClock.Instant?, stopAbove: Double,
                      learningRate: Double, decay: Double, betaLearningRate: Double = 0.05,
                      abandonUnreachable: Bool = false) -> Int {
        let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
        let slopeCount = parameterPosition.count
        var rate = learningRate, betaRate = betaLearningRate
        // Slopes first, then multipliers.
        var theta = parameterPosition.map { lowerSlope[$0] } + beta
        var best = theta, bestEstimate = -Double.infinity
        var m = [Double](repeating: 0, count: theta.count), v = m
        var power1 = 1.0, power2 = 1.0
        var steps = 0
        var history: [Double] = []   // the best estimate before each step
        while true {
            for (q, position) in parameterPosition.enumerated() { lowerSlope[position] = theta[q] }
            for q in beta.indices { beta[q] = theta[slopeCount + q] }
            let estimate = evaluate()
            guard estimate.isFinite else { break }
            if estimate > bestEstimate {
                bestEstimate = estimate
                best = theta
            }
            // The rounded bound sits a little below the estimate (further with single-precision
            // products); stop only with room to spare.
            let room = singleRows.isEmpty ? 1e-7 : 1e-5
            if estimate > stopAbove + room * (1 + Swift.abs(stopAbove)) { break }
            if steps >= iterations { break }
            if let deadline, ContinuousClock.now >= deadline { break }
            history.append(bestEstimate)
            if abandonUnreachable, steps >= Self.unreachableWindow, stopAbove.isFinite {
                let rate = (bestEstimate - history[history.count - 1 - Self.unreachableWindow]) / Double(Self.unreachableWindow)
                if bestEstimate + Self.unreachableSlack * rate * Double(iterations - steps) < stopAbove { break }
            }
            steps += 1
            power1 *= beta1
            power2 *= beta2
            for q in theta.indices {
                let g = gradient[q]
                m[q] = beta1 * m[q] + (1 - beta1) * g
                v[q] = beta2 * v[q] + (1 - beta2) * g * g
                let isSlope = q < slopeCount
                let step = (isSlope ? rate : betaRate) * (m[q] / (1 - power1)) / ((v[q] / (1 - power2)).squareRoot() + epsilon)
                let next = theta[q] + step
                if next.isFinite { theta[q] = isSlope ? Swift.min(Swift.max(next, 0), 1) : Swift.max(next, 0) }
            }
            rate *= decay
            betaRate *= decay
        }
        for (q, position) in parameterPosition.enumerated() { lowerSlope[position] = best[q] }
        for q in beta.indices { beta[q] = best[slopeCount + q] }
        return steps
    }

    /// The unrounded bound for the current slopes; fills ``gradient`` with its derivative.
    mutating func evaluate() -> Double {
        let nodes = network.nodes
        let output = network.output
        for k in 0..<nodeCount { reached[k] = false }
        reached[output] = true
        var bound = 0.0
        lambda.withUnsafeMutableBufferPointer { buffer in
            let lam = buffer.baseAddress!
            lam.update(repeating: 0, count: buffer.count)
            for (e, cj) in objective.enumerated() { lam[offset[output] + e] = cj }
            var constant = 0.0
            var j = output
            while j > 0 {
                defer { j -= 1 }
                guard reached[j] else { continue }
                let node = nodes[j]
                let size = node.size
                let row = lam + offset[j]
                switch node.operation {
                case .input:
                    break
                case .dense(let d):
                    let p = node.inputs[0]
                    reached[p] = true
                    let target = lam + offset[p]
                    for k in 0..<size where row[k] != 0 { constant += row[k] * d.bias[k] }
                    if let single = singleRows[j] {
                        let q = single.rows?.count ?? size
                        let n = d.weights.columns
                        singleIn.withUnsafeMutableBufferPointer { x in
                            singleOut.withUnsafeMutableBufferPointer { y in
                                if let rows = single.rows {
                                    for (t, k) in rows.enumerated() { x[t] = Float(row[k]) }
                                } else {
                                    for k in 0..<size { x[k] = Float(row[k]) }
                                }
                                single.weights.withUnsafeBufferPointer { w in
                                    DenseProducts.multiplySingle(w.baseAddress!, x.baseAddress!, into: y.baseAddress!,
                                                                 m: q, n: n, transposed: true)
                                }
                                for e in 0..<n { target[e] += Double(y[e]) }
                            }
                        }
                    } else if let live = liveRows[j] {
                        let q = live.rows.count
                        liveScratch.withUnsafeMutableBufferPointer { gathered in
                            for (t, k) in live.rows.enumerated() { gathered[t] = row[k] }
                            live.weights.withUnsafeBufferPointer { w in
                                DenseProducts.multiply(gathered.baseAddress!, w.baseAddress!, into: target,
                                                       m: 1, k: q, n: d.weights.columns, accumulate: true)
                            }
                        }
                    } else {
                        d.weights.values.withUnsafeBufferPointer { w in
                            DenseProducts.multiply(UnsafePointer(row), w.baseAddress!, into: target,
                                                   m: 1, k: size, n: d.weights.columns, accumulate: true)
                        }
                    }
                case .convolution(let conv):
                    let p = node.inputs[0]
                    reached[p] = true
                    let geometry = geometries[j]!
                    constant += geometry.biasTerm(UnsafePointer(row), bias: conv.bias)
                    conv.weights.withUnsafeBufferPointer { w in
                        geometry.accumulateTransposed(rows: UnsafePointer(row), rowCount: 1, weights: w,
                                                      into: lam + offset[p])
                    }
                case .elementwiseAffine(let scale, let shift):
                    let p = node.inputs[0]
                    reached[p] = true
                    let target = lam + offset[p]
                    for e in 0..<size {
                        target[e] += row[e] * scale[e]
                        constant += row[e] * shift[e]
                    }
                case .add:
                    for p in node.inputs {
                        reached[p] = true
                        let target = lam + offset[p]
                        for e in 0..<size { target[e] += row[e] }
                    }
                case .relu:
                    let p = node.inputs[0]
                    reached[p] = true
                    let target = lam + offset[p]
                    let base = offset[j]
                    // Branch-free (the signs of `l` are unpredictable): one of `pos`, `neg` is
                    // zero, so each sum gets exactly the term a branch would have chosen.
                    for e in 0..<size where relaxationIsFinite {
                        let l = row[e]
                        let pos = Swift.max(l, 0), neg = Swift.min(l, 0)
                        target[e] += pos * lowerSlope[base + e] + neg * upperSlope[base + e]
                        constant += neg * upperIntercept[base + e]
                    }
                    for e in 0..<size where !relaxationIsFinite {
                        let l = row[e]
                        if l > 0 {
                            target[e] += l * lowerSlope[base + e]
                        } else if l < 0 {
                            target[e] += l * upperSlope[base + e]
                            constant += l * upperIntercept[base + e]
                        }
                    }
                    if let range = betaRange[j] {
                        for q in range { lam[betaPosition[q]] += betaSign[q] * beta[q] }
                    }
                }
            }
            bound = constant
            if reached[0] {
                for e in 0..<centre.count {
                    bound += lam[e] * centre[e] - Swift.abs(lam[e]) * radius[e]
                }
            }
        }
        forwardAtMinimiser()
        for (q, position) in parameterPosition.enumerated() {
            let l = lambda[position]
            gradient[q] = l > 0 ? l * value[preActivationPosition[q]] : 0
        }
        let slopeCount = parameterPosition.count
        for q in beta.indices { gradient[slopeCount + q] = betaSign[q] * value[betaPosition[q]] }
        return bound
    }

    /// Evaluates the relaxed linear network (the pieces the last backward pass chose) at the
    /// input corner that minimises its bound, into ``value``.
    private mutating func forwardAtMinimiser() {
        let nodes = network.nodes
        let lam = lambda
        value.withUnsafeMutableBufferPointer { buffer in
            let z = buffer.baseAddress!
            for e in 0..<centre.count {
                z[e] = lam[e] > 0 ? centre[e] - radius[e] : lam[e] < 0 ? centre[e] + radius[e] : centre[e]
            }
            for k in 1..<nodeCount {
                let node = nodes[k]
                let size = node.size
                let out = z + offset[k]
                switch node.operation {
                case .input:
                    break
                case .dense(let d):
                    let x = z + offset[node.inputs[0]]
                    if let single = singleRows[k] {
                        let n = d.weights.columns
                        singleIn.withUnsafeMutableBufferPointer { xs in
                            singleOut.withUnsafeMutableBufferPointer { y in
                                for e in 0..<n { xs[e] = Float(x[e]) }
                                single.weights.withUnsafeBufferPointer { w in
                                    DenseProducts.multiplySingle(w.baseAddress!, xs.baseAddress!, into: y.baseAddress!,
                                                                 m: single.rows?.count ?? size, n: n, transposed: false)
                                }
                                if let rows = single.rows {
                                    for i in 0..<size { out[i] = 0 }
                                    for (t, i) in rows.enumerated() { out[i] = d.bias[i] + Double(y[t]) }
                                } else {
                                    for i in 0..<size { out[i] = d.bias[i] + Double(y[i]) }
                                }
                            }
                        }
                        break
                    }
                    if let live = liveRows[k] {
                        let q = live.rows.count
                        for i in 0..<size { out[i] = 0 }
                        liveScratch.withUnsafeMutableBufferPointer { gathered in
                            live.weights.withUnsafeBufferPointer { w in
                                DenseProducts.multiplyVector(w.baseAddress!, UnsafePointer(x), into: gathered.baseAddress!,
                                                             m: q, n: d.weights.columns, accumulate: false)
                            }
                            for (t, i) in live.rows.enumerated() { out[i] = d.bias[i] + gathered[t] }
                        }
                        break
                    }
                    for i in 0..<size { out[i] = d.bias[i] }
                    d.weights.values.withUnsafeBufferPointer { w in
                        DenseProducts.multiplyVector(w.baseAddress!, UnsafePointer(x), into: out,
                                                     m: size, n: d.weights.columns, accumulate: true)
                    }
                case .convolution(let conv):
                    conv.weights.withUnsafeBufferPointer { w in
                        geometries[k]!.forwardThroughColumns(z + offset[node.inputs[0]], weights: w, bias: conv.bias,
                                                             into: out)
                    }
                case .elementwiseAffine(let scale, let shift):
                    let x = z + offset[node.inputs[0]]
                    for i in 0..<size { out[i] = scale[i] * x[i] + shift[i] }
                case .add:
                    let a = z + offset[node.inputs[0]], b = z + offset[node.inputs[1]]
                    for i in 0..<size { out[i] = a[i] + b[i] }
                case .relu:
                    let x = z + offset[node.inputs[0]]
                    let base = offset[k]
                    for i in 0..<size {
                        if lam[base + i] >= 0 {
                            out[i] = lowerSlope[base + i] * x[i]
                        } else {
                            out[i] = upperSlope[base + i] * x[i] + upperIntercept[base + i]
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Optimised intermediate bounds

extension BoundPropagator {
    /// Bounds over the box ∧ assignment whose ReLU pre-activation bounds come from optimised
    /// lower slopes (alpha-CROWN proper), layer by layer: each layer's unstable neurons get their
    /// lower and upper bounds maximised over per-neuron slopes of every earlier ReLU, with the
    /// earlier layers' already optimised bounds fixing the relaxations; after each layer the
    /// symbolic bounds of everything after it are recomputed from the tightened ones.
    ///
    /// On deep networks this is where CROWN loses most: a loose layer loosens every relaxation
    /// after it (mnistfc 256x6 prop_5_0.03: the best optimised output margin is −441 over CROWN's
    /// intermediate bounds, −90 over these). As in
    /// ``optimizedLowerBound(outputCoefficients:box:assignment:bounds:iterations:deadline:initialSlopes:stopAbove:learningRate:learningRateDecay:optimizingSplits:initialBetas:betaLearningRate:)``,
    /// only the search runs in unrounded `Double`: every bound kept comes from the rounded
    /// back-substitution with the best slopes found, and is intersected with the bound it
    /// replaces, so the result is never looser than `bounds`.
    ///
    /// Every node kind is supported (dense, convolution, elementwise affine, residual add).
    ///
    /// - Parameters:
    ///   - bounds: sound bounds for the same box and assignment (e.g. from
    ///     ``bounds(box:assignment:method:)``); the starting point, and the fallback.
    ///   - iterations: gradient steps per layer.
    ///   - deadline: stop optimising once passed; what was tightened so far is kept.
    ///   - learningRate: Adam's first step size; `learningRateDecay` multiplies it after each step.
    public func optimizedBounds(box: Box, assignment: PhaseAssignment?, bounds: NetworkBounds,
                                iterations: Int = 20, deadline: ContinuousClock.Instant? = nil,
                                learningRate: Double = 0.2, learningRateDecay: Double = 0.98) -> NetworkBounds {
        guard !bounds.isInfeasible, iterations > 0 else { return bounds }
        var current = bounds
        let preActivationNodes = Set(reluNodes.map { network.nodes[$0].inputs[0] }).sorted()
        for pre in preActivationNodes {
            if let deadline, ContinuousClock.now >= deadline { break }
            // The first affine node's interval bounds are exact already.
            if pre == 0 || readsInputAffinely(network.nodes[pre]) { continue }
            guard let nodeBounds = regionBounds(box: box, assignment: assignment, bounds: current) else { break }
            let hasFreeSlope = reluNodes.contains { k in
                k < pre && zip(nodeBounds[network.nodes[k].inputs[0]].lower, nodeBounds[network.nodes[k].inputs[0]].upper)
                    .contains { $0 < 0 && $1 > 0 }
            }
            guard hasFreeSlope else { continue }
            let b = nodeBounds[pre]
            let unstable = b.lower.indices.filter { b.lower[$0] < 0 && b.upper[$0] > 0 }
            guard !unstable.isEmpty else { continue }
            var tightened = b
            var changed = false
            // Chunks bound the memory of the coefficient matrices (rows × every earlier value):
            // about 2²² values per matrix, 32 MB, whose copies (coefficients, forward values,
            // slopes and Adam's moments) stay within a few hundred MB on a residual CIFAR network.
            let valuesPerRow = network.nodes[0...pre].reduce(0) { $0 + $1.size }
            let perChunk = Swift.max(1, Swift.min(chunkSize, (1 << 21) / Swift.max(1, valuesPerRow)))
            var start = 0
            while start < unstable.count {
                let chunk = Array(unstable[start..<Swift.min(start + perChunk, unstable.count)])
                start += perChunk
                let lowers = optimizedPreActivationBounds(node: pre, neurons: chunk, nodeBounds: nodeBounds,
                                                          iterations: iterations, deadline: deadline,
                                                          learningRate: learningRate, decay: learningRateDecay)
                for (q, i) in chunk.enumerated() {
                    if lowers[2 * q] > tightened.lower[i] { tightened.lower[i] = lowers[2 * q]; changed = true }
                    if -lowers[2 * q + 1] < tightened.upper[i] { tightened.upper[i] = -lowers[2 * q + 1]; changed = true }
                }
            }
            guard changed else { continue }
            var known = current.nodes
            known[pre] = tightened
            current = self.bounds(box: box, assignment: assignment, method: .symbolic, lowerSlopes: nil, known: known)
            if current.isInfeasible { return current }
        }
        return current
    }

    /// ``optimizedBounds(box:assignment:bounds:iterations:deadline:learningRate:learningRateDecay:)``
    /// of `box` with no phase fixed, computed once and remembered: every conjunction of a property
    /// shares the box, and so does every node of a ReLU search, which seeds its bounds with these.
    /// A run cut short by `deadline` is remembered as it is (still sound, just less tight).
    public func optimizedRootBounds(box: Box, iterations: Int, deadline: ContinuousClock.Instant?) -> NetworkBounds {
        if let remembered = optimizedRootMemo.bounds(for: box) { return remembered }
        let result = optimizedBounds(box: box, assignment: nil, bounds: bounds(box: box), iterations: iterations,
                                     deadline: deadline)
        optimizedRootMemo.store(result, for: box)
        return result
    }

    /// The remembered ``optimizedRootBounds(box:iterations:deadline:)`` of `box`, if they were
    /// computed (for exactly this box).
    public func rememberedOptimizedRootBounds(box: Box) -> NetworkBounds? {
        optimizedRootMemo.bounds(for: box)
    }

    /// Sound lower bounds of `x_i` and `−x_i` (interleaved, two per neuron) for the given neurons
    /// of node `node`, back-substituted with per-row slopes optimised from the adaptive ones.
    /// `nodeBounds` must hold sound bounds of every node before `node` (region-applied).
    func optimizedPreActivationBounds(node: Int, neurons: [Int], nodeBounds: [LayerBounds], iterations: Int,
                                      deadline: ContinuousClock.Instant?, learningRate: Double,
                                      decay: Double) -> [Double] {
        let rowCount = 2 * neurons.count
        let rows = BackSubstitutionContext.StartRows.unitPairs(neurons).matrix(size: network.nodes[node].size)
        var optimizer = BatchSlopeOptimizer(network: network, target: node, rows: rows, rowCount: rowCount,
                                            nodeBounds: nodeBounds)
        optimizer.run(iterations: iterations, deadline: deadline, learningRate: learningRate, decay: decay)
        // The sound bound: the rounded back-substitution with the slopes found.
        var context = backSubstitutionContext(nodeBounds: nodeBounds, upTo: node)
        return context.unitPairLowerBounds(start: node, neurons: neurons, stopPairsAtDecision: true,
                                           rowLowerSlopes: optimizer.alpha)
    }

    /// Whether `node` is a dense or convolution node whose input is the network input.
    func readsInputAffinely(_ node: Node) -> Bool {
        switch node.operation {
        case .dense, .convolution: return node.inputs[0] == 0
        default: return false
        }
    }
}

/// Projected Adam ascent on the back-substituted lower bounds of many linear functionals of one
/// node at once, each with its own lower slopes for every unstable ReLU before it.
///
/// The batched form of ``SlopeOptimizer``: the coefficient rows of all functionals go back
/// through the network together (one matrix product per dense node), and the gradient of row
/// `r` with respect to its slope `α_{r,i}` is `λ_{r,i} · z_{r,p(i)}` for a positive ReLU-output
/// coefficient `λ_{r,i}`, with `z_r` the value of row `r`'s relaxed linear network at the input
/// corner minimising its bound. That forward pass runs on all rows together too, on values
/// stored transposed (`size × rows`) so each dense node is again one matrix product. Rows are
/// independent: maximising their sum maximises each.
struct BatchSlopeOptimizer {
    let network: Network
    let target: Int
    let rowCount: Int
    let rows: [Double]
    /// The relaxation of every ReLU node before `target`, and its unstable positions.
    let relaxations: [Int: ReLURelaxation]
    let unstable: [Int: [Int]]
    /// Per ReLU node before `target`: `rowCount × size` lower slopes (only the unstable entries
    /// are free; the others hold the relaxation's exact slope).
    var alpha: [Int: [Double]]
    /// Coefficients per node (`rowCount × size`) and forward values per node (`size × rowCount`).
    var lambda: [[Double]]
    var value: [[Double]]
    var reached: [Bool]
    /// Per ReLU node: the derivative of each row's bound with respect to its slopes.
    var gradient: [Int: [Double]]
    let centre: [Double]
    let radius: [Double]

    /// The index arithmetic of every convolution node up to `target`.
    let geometries: [Int: ConvolutionGeometry]

    init(network: Network, target: Int, rows: [Double], rowCount: Int, nodeBounds: [LayerBounds]) {
        self.network = network
        self.target = target
        self.rows = rows
        self.rowCount = rowCount
        var relaxations: [Int: ReLURelaxation] = [:], unstable: [Int: [Int]] = [:]
        var alpha: [Int: [Double]] = [:]
        var geometries: [Int: ConvolutionGeometry] = [:]
        for k in 1...target {
            if case .convolution(let conv) = network.nodes[k].operation { geometries[k] = ConvolutionGeometry(conv) }
            guard k < target, case .relu = network.nodes[k].operation else { continue }
            let relaxation = ReLURelaxation(preActivation: nodeBounds[network.nodes[k].inputs[0]], lowerSlopes: nil)
            relaxations[k] = relaxation
            unstable[k] = relaxation.isUnstable.indices.filter { relaxation.isUnstable[$0] }
            var a = [Double](repeating: 0, count: rowCount * network.nodes[k].size)
            for r in 0..<rowCount {
                for (e, s) in relaxation.lowerSlope.enumerated() { a[r * network.nodes[k].size + e] = s }
            }
            alpha[k] = a
        }
        self.relaxations = relaxations
        self.unstable = unstable
        self.alpha = alpha
        self.geometries = geometries
        gradient = alpha.mapValues { [Double](repeating: 0, count: $0.count) }
        lambda = (0...target).map { [Double](repeating: 0, count: rowCount * network.nodes[$0].size) }
        value = lambda
        reached = [Bool](repeating: false, count: target + 1)
        (centre, radius, _) = IntervalArithmetic.centreRadius(nodeBounds[0])
    }

    /// Projected Adam ascent from the adaptive slopes; leaves each row's best slopes (by the
    /// unrounded estimate) in ``alpha`` and returns the number of steps taken.
    @discardableResult
    mutating func run(iterations: Int, deadline: ContinuousClock.Instant?, learningRate: Double,
                      decay: Double) -> Int {
        let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
        var rate = learningRate
        var m = alpha.mapValues { [Double](repeating: 0, count: $0.count) }
        var v = m
        var best = alpha
        var bestBound = [Double](repeating: -.infinity, count: rowCount)
        var power1 = 1.0, power2 = 1.0
        var steps = 0
        while true {
            let bound = evaluate()
            var improved: [Int] = []
            for r in 0..<rowCount where bound[r].isFinite && bound[r] > bestBound[r] {
                bestBound[r] = bound[r]
                improved.append(r)
            }
            if !improved.isEmpty {
                for (k, a) in alpha {
                    let n = network.nodes[k].size
                    for r in improved { best[k]![(r * n)..<((r + 1) * n)] = a[(r * n)..<((r + 1) * n)] }
                }
            }
            if steps >= iterations { break }
            if let deadline, ContinuousClock.now >= deadline { break }
            steps += 1
            power1 *= beta1
            power2 *= beta2
            let correction1 = 1 - power1, correction2 = 1 - power2
            for (k, positions) in unstable where !positions.isEmpty {
                let n = network.nodes[k].size
                let g = gradient[k]!
                var a = Self.take(&alpha, k), mk = Self.take(&m, k), vk = Self.take(&v, k)
                for r in 0..<rowCount {
                    let base = r * n
                    for e in positions {
                        let q = base + e
                        mk[q] = beta1 * mk[q] + (1 - beta1) * g[q]
                        vk[q] = beta2 * vk[q] + (1 - beta2) * g[q] * g[q]
                        let next = a[q] + rate * (mk[q] / correction1) / ((vk[q] / correction2).squareRoot() + epsilon)
                        if next.isFinite { a[q] = Swift.min(Swift.max(next, 0), 1) }
                    }
                }
                alpha[k] = a
                m[k] = mk
                v[k] = vk
            }
            rate *= decay
        }
        alpha = best
        return steps
    }

    /// The unrounded bound of every row for the current slopes; fills ``gradient``.
    mutating func evaluate() -> [Double] {
        let nodes = network.nodes
        let R = rowCount
        for k in 0...target {
            reached[k] = false
            lambda[k].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        lambda[target] = rows
        reached[target] = true
        var constant = [Double](repeating: 0, count: R)
        var j = target
        while j > 0 {
            defer { j -= 1 }
            guard reached[j] else { continue }
            let node = nodes[j]
            let size = node.size
            let l = lambda[j]
            switch node.operation {
            case .input:
                break
            case .convolution(let conv):
                let p = node.inputs[0]
                reached[p] = true
                let geometry = geometries[j]!
                var out = Self.take(&lambda, p)
                l.withUnsafeBufferPointer { l in
                    for r in 0..<R {
                        constant[r] += geometry.biasTerm(l.baseAddress! + r * size, bias: conv.bias)
                    }
                    conv.weights.withUnsafeBufferPointer { w in
                        out.withUnsafeMutableBufferPointer { o in
                            geometry.accumulateTransposed(rows: l.baseAddress!, rowCount: R, weights: w,
                                                          into: o.baseAddress!)
                        }
                    }
                }
                lambda[p] = out
            case .dense(let d):
                let p = node.inputs[0]
                reached[p] = true
                let n = d.weights.columns
                var out = Self.take(&lambda, p)
                l.withUnsafeBufferPointer { l in
                    for r in 0..<R {
                        var c = 0.0
                        for k in 0..<size { c += l[r * size + k] * d.bias[k] }
                        constant[r] += c
                    }
                    d.weights.values.withUnsafeBufferPointer { w in
                        out.withUnsafeMutableBufferPointer { o in
                            DenseProducts.multiplySkippingZeroColumns(l.baseAddress!, w.baseAddress!,
                                                                      into: o.baseAddress!, m: R, k: size, n: n,
                                                                      accumulate: true)
                        }
                    }
                }
                lambda[p] = out
            case .elementwiseAffine(let scale, let shift):
                let p = node.inputs[0]
                reached[p] = true
                var out = Self.take(&lambda, p)
                for r in 0..<R {
                    for e in 0..<size {
                        let lam = l[r * size + e]
                        if lam == 0 { continue }
                        out[r * size + e] += lam * scale[e]
                        constant[r] += lam * shift[e]
                    }
                }
                lambda[p] = out
            case .add:
                for p in node.inputs {
                    reached[p] = true
                    var out = Self.take(&lambda, p)
                    for q in 0..<(R * size) { out[q] += l[q] }
                    lambda[p] = out
                }
            case .relu:
                let p = node.inputs[0]
                reached[p] = true
                let relaxation = relaxations[j]!
                let a = alpha[j]!
                var out = Self.take(&lambda, p)
                l.withUnsafeBufferPointer { l in
                    out.withUnsafeMutableBufferPointer { o in
                        for r in 0..<R {
                            let base = r * size
                            var c = 0.0
                            for e in 0..<size {
                                let lam = l[base + e]
                                if lam == 0 { continue }
                                if lam > 0 {
                                    o[base + e] += lam * a[base + e]
                                } else {
                                    o[base + e] += lam * relaxation.upperSlope[e]
                                    c += lam * relaxation.upperIntercept[e]
                                }
                            }
                            constant[r] += c
                        }
                    }
                }
                lambda[p] = out
            }
        }
        var bound = constant
        let n0 = centre.count
        if reached[0] {
            let l0 = lambda[0]
            for r in 0..<R {
                var s = 0.0
                for e in 0..<n0 {
                    let lam = l0[r * n0 + e]
                    s += lam * centre[e] - Swift.abs(lam) * radius[e]
                }
                bound[r] += s
            }
        }
        forwardAtMinimisers()
        for (k, positions) in unstable where !positions.isEmpty {
            let n = nodes[k].size
            let l = lambda[k], x = value[nodes[k].inputs[0]]
            var g = Self.take(&gradient, k)
            for r in 0..<R {
                for e in positions {
                    let lam = l[r * n + e]
                    g[r * n + e] = lam > 0 ? lam * x[e * R + r] : 0
                }
            }
            gradient[k] = g
        }
        return bound
    }

    /// Evaluates every row's relaxed linear network at its minimising input corner, into
    /// ``value`` (transposed: `value[k][e * rowCount + r]`).
    private mutating func forwardAtMinimisers() {
        let nodes = network.nodes
        let R = rowCount
        let n0 = centre.count
        var input = Self.take(&value, 0)
        let l0 = lambda[0]
        for e in 0..<n0 {
            for r in 0..<R {
                let lam = l0[r * n0 + e]
                input[e * R + r] = lam > 0 ? centre[e] - radius[e] : lam < 0 ? centre[e] + radius[e] : centre[e]
            }
        }
        value[0] = input
        for k in 1..<target {
            let node = nodes[k]
            let size = node.size
            var out = Self.take(&value, k)
            switch node.operation {
            case .input:
                break
            case .convolution(let conv):
                let geometry = geometries[k]!
                value[node.inputs[0]].withUnsafeBufferPointer { x in
                    out.withUnsafeMutableBufferPointer { o in
                        conv.weights.withUnsafeBufferPointer { w in
                            geometry.forwardColumns(x.baseAddress!, columns: R, weights: w, bias: conv.bias,
                                                    into: o.baseAddress!)
                        }
                    }
                }
            case .dense(let d):
                let x = value[node.inputs[0]]
                let n = d.weights.columns
                d.weights.values.withUnsafeBufferPointer { w in
                    x.withUnsafeBufferPointer { x in
                        out.withUnsafeMutableBufferPointer { o in
                            DenseProducts.multiply(w.baseAddress!, x.baseAddress!, into: o.baseAddress!,
                                                   m: size, k: n, n: R, accumulate: false)
                            for i in 0..<size {
                                let b = d.bias[i]
                                for r in 0..<R { o[i * R + r] += b }
                            }
                        }
                    }
                }
            case .elementwiseAffine(let scale, let shift):
                let x = value[node.inputs[0]]
                for i in 0..<size {
                    for r in 0..<R { out[i * R + r] = scale[i] * x[i * R + r] + shift[i] }
                }
            case .add:
                let x = value[node.inputs[0]], y = value[node.inputs[1]]
                for t in 0..<(size * R) { out[t] = x[t] + y[t] }
            case .relu:
                let x = value[node.inputs[0]]
                let relaxation = relaxations[k]!
                let a = alpha[k]!
                let l = lambda[k]
                for i in 0..<size {
                    let up = relaxation.upperSlope[i], ic = relaxation.upperIntercept[i]
                    for r in 0..<R {
                        let t = i * R + r
                        out[t] = l[r * size + i] >= 0 ? a[r * size + i] * x[t] : up * x[t] + ic
                    }
                }
            }
            value[k] = out
        }
    }

    /// Moves element `i` out of `arrays` (leaving it empty), so it can be mutated in place without
    /// a copy while other elements are read.
    private static func take(_ arrays: inout [[Double]], _ i: Int) -> [Double] {
        var taken: [Double] = []
        swap(&taken, &arrays[i])
        return taken
    }

    private static func take(_ arrays: inout [Int: [Double]], _ key: Int) -> [Double] {
        arrays.removeValue(forKey: key) ?? []
    }
}
