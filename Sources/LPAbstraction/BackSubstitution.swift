import Network

/// The linear relaxation of one ReLU node used by back-substitution: for each neuron,
/// `lowerSlope · x ≤ y ≤ upperSlope · x + upperIntercept` on the neuron's pre-activation range.
///
/// Stable or fixed neurons get the exact pieces (identity: slopes 1, intercept 0; zero: all 0).
/// Unstable ones get the triangle's upper face with slope and intercept rounded *up* (so the line
/// used is still above the ReLU on `[l, u]` in real arithmetic) and a lower slope in `[0, 1]`.
struct ReLURelaxation {
    var lowerSlope: [Double]
    var upperSlope: [Double]
    var upperIntercept: [Double]
    /// Whether each neuron is unstable (`l < 0 < u`): only those have a free lower slope.
    var isUnstable: [Bool]
    /// Every slope and intercept is finite (not so for unbounded inputs), so that a zero
    /// coefficient times any of them is zero.
    var isFinite: Bool

    /// The relaxation for pre-activation bounds `x` (assignment already applied), with optional
    /// lower slopes for the unstable neurons (adaptive when `nil`).
    init(preActivation x: LayerBounds, lowerSlopes: [Double]?) {
        let n = x.lower.count
        lowerSlope = [Double](repeating: 0, count: n)
        upperSlope = lowerSlope
        upperIntercept = lowerSlope
        isUnstable = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let l = x.lower[i], u = x.upper[i]
            if l >= 0 {
                lowerSlope[i] = 1
                upperSlope[i] = 1
            } else if u <= 0 {
                continue
            } else {
                isUnstable[i] = true
                let s = (u / (u - l).nextDown).nextUp
                upperSlope[i] = s
                upperIntercept[i] = (-l * s).nextUp
                if let alpha = lowerSlopes?[i], alpha.isFinite {
                    lowerSlope[i] = Swift.min(Swift.max(alpha, 0), 1)
                } else {
                    // The adaptive choice: the lower line of smaller area (DeepPoly).
                    lowerSlope[i] = u > -l ? 1 : 0
                }
            }
        }
        isFinite = !upperSlope.contains { !$0.isFinite } && !upperIntercept.contains { !$0.isFinite }
    }
}

/// The state of one bound computation that back-substitution reads: the bounds known so far for
/// each node (in topological order), the magnitudes that bound rounding errors, and the ReLU
/// relaxations.
struct BackSubstitutionContext {
    let network: Network
    let reluNodes: [Int]
    /// Bounds of nodes `0..<nodeBounds.count`.
    var nodeBounds: [LayerBounds] = []
    /// `max(|l|, |u|)` per value of each node: bounds `|v|` for the rounding-error slack.
    var magnitudes: [[Double]] = []
    /// `Σ magnitudes[k]`, for the underflow term.
    var magnitudeSums: [Double] = []
    /// Relaxation of each ReLU node, by node index.
    var relaxations: [Int: ReLURelaxation] = [:]
    /// An upper bound of `|A|·M_in` for affine node `k` with operator `A`, cached per computation.
    var operatorMagnitudes: [Int: [Double]] = [:]
    /// Absolute row (dense) or output-channel (convolution) sums of each affine node's weights
    /// (``BoundPropagator/absoluteRowSums``).
    let absoluteRowSums: [Int: [Double]]

    init(network: Network, reluNodes: [Int], absoluteRowSums: [Int: [Double]]) {
        self.network = network
        self.reluNodes = reluNodes
        self.absoluteRowSums = absoluteRowSums
    }

    /// Records the bounds of the next node.
    mutating func append(_ b: LayerBounds) {
        nodeBounds.append(b)
        var m = [Double](repeating: 0, count: b.lower.count)
        var sum = 0.0
        for i in m.indices {
            m[i] = Swift.max(Swift.abs(b.lower[i]), Swift.abs(b.upper[i]))
            sum += m[i]
        }
        magnitudes.append(m)
        magnitudeSums.append((sum * (1 + 0x1p-40)).nextUp)
    }

    /// Sets the relaxation of the ReLU node `node` from its (assignment-clipped) input bounds.
    mutating func setRelaxation(forReLUNode node: Int, preActivation: LayerBounds, lowerSlopes: [Double]?) {
        relaxations[node] = ReLURelaxation(preActivation: preActivation, lowerSlopes: lowerSlopes)
    }

    /// An upper bound of `|A|·M` for the affine operator of node `k` applied to the magnitudes of
    /// its input: `(Σ_j |A_kj|)·max M`, entry by entry. The exact product is a matrix-vector
    /// product per node and computation (a tenth of a search's time on mnistfc); the bound is
    /// looser, but it only scales a rounding slack of order `n·2⁻⁵³` of the terms, far below
    /// any margin the search compares. A zero row adds no error (and no `0·∞` when an input is
    /// unbounded).
    private mutating func operatorMagnitude(_ k: Int) -> [Double] {
        if let cached = operatorMagnitudes[k] { return cached }
        let node = network.nodes[k]
        let largest = magnitudes[node.inputs[0]].reduce(0) { Swift.max($0, $1) }
        var result: [Double]
        switch node.operation {
        case .dense:
            result = absoluteRowSums[k]!.map { $0 == 0 ? 0 : ($0 * largest).nextUp }
        case .convolution(let c):
            let geometry = ConvolutionGeometry(c)
            let perChannel = geometry.outH * geometry.outW
            let sums = absoluteRowSums[k]!
            result = (0..<geometry.outputSize).map { sums[$0 / perChannel] == 0 ? 0 : (sums[$0 / perChannel] * largest).nextUp }
        default:
            result = []
        }
        operatorMagnitudes[k] = result
        return result
    }

    /// Adds to `slack[r]` the rounding error of accumulating into an existing coefficient row: the
    /// old entries take part in each entry's sum, so `|old_r|·M` joins the error term.
    private func oldAbsolute(_ old: [Double], rowCount: Int, node p: Int) -> [Double] {
        let n = magnitudes[p].count
        var result = [Double](repeating: 0, count: rowCount)
        old.withUnsafeBufferPointer { o in
            magnitudes[p].withUnsafeBufferPointer { m in
                for r in 0..<rowCount {
                    var s = 0.0
                    for e in 0..<n { s += Swift.abs(o[r * n + e]) * m[e] }
                    result[r] = s
                }
            }
        }
        return result
    }

    /// Sound lower bounds of the `rowCount` linear functionals `Λ_r · v_start` (rows of `rows`,
    /// row-major, `rowCount × size(start)`) over the region, by back-substitution to the input.
    ///
    /// Invariant after each step, for every row `r` and every input of the region, in real
    /// arithmetic: `Λ_r·v_start ≥ Σ_{frontier nodes j} Λ_{r,j}·v_j + constant_r − slack_r`.
    ///
    /// With `stopPairsAtDecision` the rows come in pairs (`x_i`, `−x_i`) of neurons whose sign is
    /// wanted: after each ReLU node the invariant's right-hand side is also concretised at the
    /// frontier nodes' own bounds (sound by the invariant), and a pair whose row there is already
    /// `≥ 0` (the neuron is stable) stops with those bounds instead of going on to the input. On
    /// convolutional networks most neurons that interval arithmetic leaves unstable are decided a
    /// layer or two back, and the deep steps near the input are the expensive ones.
    ///
    /// `rowLowerSlopes`, when given, holds per-row lower slopes for some ReLU nodes (by node index,
    /// `rowCount × size` row-major, one row per row of `rows`): they replace the relaxation's lower
    /// slope of that row's *unstable* neurons. Every slope in `[0, 1]` gives a valid lower line
    /// (`max(x, 0) ≥ αx` for all `x`), so they are clamped there and a non-finite one falls back to
    /// the relaxation's own; stable neurons keep their exact pieces.
    ///
    /// `observeReLU`, when given, sees each ReLU node's coefficients as the pass reaches it (node
    /// index, `R × size` row-major for the `R` rows still going, the node's relaxation), before
    /// they are carried through the relaxation: the multipliers of the ReLU outputs that
    /// branching heuristics read.
    ///
    /// `splitMultipliers`, when given, holds per ReLU node (by node index) a signed multiplier
    /// `μ_i` per neuron, added to every row's coefficient of the neuron's pre-activation `x_i`
    /// (beta-CROWN's Lagrangian term for a split constraint). Adding `μ_i·x_i` keeps the
    /// invariant only where `μ_i·x_i ≤ 0` on the whole region, so a multiplier is used only where
    /// the region's bounds prove it: `μ_i < 0` needs `l_i ≥ 0` (an active phase), `μ_i > 0` needs
    /// `u_i ≤ 0` (an inactive one); any other is ignored. No slack is needed: with round to
    /// nearest, `fl(λ + μ) − λ` has the sign of `μ`, so the stored coefficient is exactly `λ + μ'`
    /// for a real `μ'` of the same sign.
    mutating func lowerBounds(start: Int, rows: [Double], rowCount: Int, stopPairsAtDecision: Bool = false,
                              rowLowerSlopes: [Int: [Double]]? = nil,
                              splitMultipliers: [Int: [Double]]? = nil,
                              observeReLU: ((Int, [Double], ReLURelaxation) -> Void)? = nil) -> [Double] {
        lowerBounds(start: start, rows: .given(rows), rowCount: rowCount, stopPairsAtDecision: stopPairsAtDecision,
                    rowLowerSlopes: rowLowerSlopes, splitMultipliers: splitMultipliers, observeReLU: observeReLU)
    }

    /// ``lowerBounds(start:rows:rowCount:stopPairsAtDecision:rowLowerSlopes:splitMultipliers:observeReLU:)``
    /// for the pairs of unit rows `x_i`, `−x_i` (rows `2q` and `2q + 1`) of each neuron
    /// `i = neurons[q]` of node `start`: its intermediate bounds. Through a dense or convolution
    /// node the first step writes each row's coefficients straight from the neuron's weights,
    /// without forming the unit rows (on oval21's convolutions a few hundred rows of thousands of
    /// zeros each, filled, scanned and multiplied per search node); the result is the same to the
    /// bit, since a unit row's products and sums are exact and the slack terms are the general
    /// step's.
    mutating func unitPairLowerBounds(start: Int, neurons: [Int], stopPairsAtDecision: Bool = false,
                                      rowLowerSlopes: [Int: [Double]]? = nil) -> [Double] {
        lowerBounds(start: start, rows: .unitPairs(neurons), rowCount: 2 * neurons.count,
                    stopPairsAtDecision: stopPairsAtDecision, rowLowerSlopes: rowLowerSlopes, splitMultipliers: nil,
                    observeReLU: nil)
    }

    /// The rows a back-substitution starts from.
    enum StartRows {
        /// `rowCount × size(start)`, row-major.
        case given([Double])
        /// `x_i` and `−x_i` for each listed neuron.
        case unitPairs([Int])

        /// The rows written out.
        func matrix(size: Int) -> [Double] {
            switch self {
            case .given(let rows):
                return rows
            case .unitPairs(let neurons):
                var rows = [Double](repeating: 0, count: 2 * neurons.count * size)
                for (q, i) in neurons.enumerated() {
                    rows[(2 * q) * size + i] = 1
                    rows[(2 * q + 1) * size + i] = -1
                }
                return rows
            }
        }
    }

    private mutating func lowerBounds(start: Int, rows startRows: StartRows, rowCount: Int, stopPairsAtDecision: Bool,
                                      rowLowerSlopes: [Int: [Double]]?, splitMultipliers: [Int: [Double]]?,
                                      observeReLU: ((Int, [Double], ReLURelaxation) -> Void)?) -> [Double] {
        let nodes = network.nodes
        var R = rowCount
        // Original row of each row still being back-substituted, and the best sound bound seen for
        // each original row at an intermediate frontier.
        var rowIndex = Array(0..<rowCount)
        var best = [Double](repeating: -.infinity, count: rowCount)
        var coefficients = [[Double]?](repeating: nil, count: start + 1)
        var constant = [Double](repeating: 0, count: R)
        var slack = [Double](repeating: 0, count: R)

        /// Takes node `p`'s coefficient matrix to accumulate into (zeros if none yet), and the
        /// `|old|·M` terms if there was one.
        func target(_ p: Int) -> (matrix: [Double], oldAbsolute: [Double]?) {
            if let old = coefficients[p] {
                coefficients[p] = nil
                return (old, oldAbsolute(old, rowCount: R, node: p))
            }
            return ([Double](repeating: 0, count: R * nodes[p].size), nil)
        }
        func addSlack(_ absolute: [Double], old: [Double]?, terms: Int, node p: Int) {
            let n = terms + (old == nil ? 0 : 1)
            let gamma = 2 * SoundArithmetic.gamma(n + 2)
            let underflow = Double(n + 2) * SoundArithmetic.eta * magnitudeSums[p]
            for r in 0..<R {
                let a = absolute[r] + (old?[r] ?? 0)
                slack[r] += gamma * a + underflow
            }
        }

        if case .unitPairs(let neurons) = startRows, let first = unitPairStep(start: start, neurons: neurons) {
            // What the loop below would compute at `start` from the unit rows (see
            // ``unitPairStep(start:neurons:)``), its slack added as `addSlack` adds it.
            coefficients[nodes[start].inputs[0]] = first.coefficients
            constant = first.constant
            slack = first.biasSlack
            addSlack(first.absolute, old: nil, terms: first.terms, node: nodes[start].inputs[0])
        } else {
            coefficients[start] = startRows.matrix(size: nodes[start].size)
        }

        var j = start
        while j > 0 {
            defer { j -= 1 }
            guard let L = coefficients[j] else { continue }
            coefficients[j] = nil
            let node = nodes[j]
            let outSize = node.size
            switch node.operation {
            case .input:
                break
            case .dense(let d):
                let p = node.inputs[0]
                let nIn = d.weights.columns
                let opMag = operatorMagnitude(j)
                var (out, old) = target(p)
                var absolute = [Double](repeating: 0, count: R)
                L.withUnsafeBufferPointer { l in
                    d.bias.withUnsafeBufferPointer { bias in
                        opMag.withUnsafeBufferPointer { opMag in
                            // No test for zero coefficients: a zero adds exact zeros, and the branch on
                            // data costs more than the products it would skip.
                            for r in 0..<R {
                                var a = 0.0, c = 0.0, cAbs = Swift.abs(constant[r])
                                let lrow = l.baseAddress! + r * outSize
                                for k in 0..<outSize {
                                    let lam = lrow[k]
                                    a += Swift.abs(lam) * opMag[k]
                                    let t = lam * bias[k]
                                    c += t
                                    cAbs += Swift.abs(t)
                                }
                                absolute[r] = a
                                constant[r] += c
                                slack[r] += SoundArithmetic.dotError(absoluteSum: cAbs, terms: outSize + 1)
                            }
                        }
                    }
                    // Λ_p ← Λ_p + Λ·W: by OpenBLAS when Λ is dense enough, else row by row over the
                    // non-zero coefficients (e.g. the unit rows a back-substitution starts from).
                    // Either summation order is covered by the slack (see ``SoundArithmetic``).
                    var nonzero = 0
                    let denseEnough = (R * outSize + 7) / 8
                    for x in l { nonzero &+= x != 0 ? 1 : 0 }
                    d.weights.values.withUnsafeBufferPointer { w in
                        out.withUnsafeMutableBufferPointer { o in
                            if nonzero >= denseEnough {
                                DenseProducts.multiplySkippingZeroColumns(l.baseAddress!, w.baseAddress!,
                                                                          into: o.baseAddress!, m: R, k: outSize,
                                                                          n: nIn, accumulate: old != nil)
                                return
                            }
                            for r in 0..<R {
                                let orow = o.baseAddress! + r * nIn
                                for k in 0..<outSize {
                                    let lam = l[r * outSize + k]
                                    if lam == 0 { continue }
                                    DenseProducts.addScaled(w.baseAddress! + k * nIn, by: lam, into: orow, count: nIn)
                                }
                            }
                        }
                    }
                }
                addSlack(absolute, old: old, terms: outSize, node: p)
                coefficients[p] = out
            case .convolution(let conv):
                let p = node.inputs[0]
                let geometry = ConvolutionGeometry(conv)
                let opMag = operatorMagnitude(j)
                var (out, old) = target(p)
                var absolute = [Double](repeating: 0, count: R)
                let perChannel = geometry.outH * geometry.outW
                L.withUnsafeBufferPointer { l in
                    conv.weights.withUnsafeBufferPointer { w in
                        out.withUnsafeMutableBufferPointer { o in
                            for r in 0..<R {
                                var a = 0.0, c = 0.0, cAbs = Swift.abs(constant[r])
                                let lrow = l.baseAddress! + r * outSize
                                // Channel by channel: no division per entry (the same order of terms).
                                for channel in 0..<geometry.outC {
                                    let bias = conv.bias[channel]
                                    for k in (channel * perChannel)..<((channel + 1) * perChannel) {
                                        let lam = lrow[k]
                                        if lam == 0 { continue }
                                        a += Swift.abs(lam) * opMag[k]
                                        let t = lam * bias
                                        c += t
                                        cAbs += Swift.abs(t)
                                    }
                                }
                                absolute[r] = a
                                constant[r] += c
                                slack[r] += SoundArithmetic.dotError(absoluteSum: cAbs, terms: outSize + 1)
                            }
                            // Λ_p ← Λ_p + Λ·Conv, dense rows by OpenBLAS (covered by the slack).
                            geometry.accumulateTransposed(rows: l.baseAddress!, rowCount: R, weights: w,
                                                          into: o.baseAddress!)
                        }
                    }
                }
                addSlack(absolute, old: old, terms: geometry.transposedTerms, node: p)
                coefficients[p] = out
            case .elementwiseAffine(let scale, let shift):
                let p = node.inputs[0]
                var (out, old) = target(p)
                var absolute = [Double](repeating: 0, count: R)
                let m = magnitudes[p]
                for r in 0..<R {
                    var a = 0.0, c = 0.0, cAbs = Swift.abs(constant[r])
                    for e in 0..<outSize {
                        let lam = L[r * outSize + e]
                        if lam == 0 { continue }
                        let v = lam * scale[e]
                        out[r * outSize + e] += v
                        a += Swift.abs(v) * m[e]
                        let t = lam * shift[e]
                        c += t
                        cAbs += Swift.abs(t)
                    }
                    absolute[r] = a * (1 + 0x1p-50)
                    constant[r] += c
                    slack[r] += SoundArithmetic.dotError(absoluteSum: cAbs, terms: outSize + 1)
                }
                addSlack(absolute, old: old, terms: 1, node: p)
                coefficients[p] = out
            case .add:
                for p in node.inputs {
                    if coefficients[p] == nil {
                        coefficients[p] = L   // an exact copy
                    } else {
                        var (out, old) = target(p)
                        var absolute = [Double](repeating: 0, count: R)
                        let m = magnitudes[p]
                        for r in 0..<R {
                            var a = 0.0
                            for e in 0..<outSize {
                                let lam = L[r * outSize + e]
                                out[r * outSize + e] += lam
                                a += Swift.abs(lam) * m[e]
                            }
                            absolute[r] = a
                        }
                        addSlack(absolute, old: old, terms: 1, node: p)
                        coefficients[p] = out
                    }
                }
            case .relu:
                let p = node.inputs[0]
                guard let relaxation = relaxations[j] else {
                    preconditionFailure("no relaxation for ReLU node \(j)")
                }
                observeReLU?(j, L, relaxation)
                var (out, old) = target(p)
                var absolute = [Double](repeating: 0, count: R)
                let m = magnitudes[p]
                let perRow = rowLowerSlopes?[j]
                relaxation.lowerSlope.withUnsafeBufferPointer { lo in
                    relaxation.upperSlope.withUnsafeBufferPointer { up in
                        relaxation.upperIntercept.withUnsafeBufferPointer { ic in
                            L.withUnsafeBufferPointer { l in
                                out.withUnsafeMutableBufferPointer { o in
                                    let branchFree = perRow == nil && relaxation.isFinite
                                    for r in 0..<R {
                                        var a = 0.0, c = 0.0, cAbs = Swift.abs(constant[r])
                                        let base = r * outSize
                                        if branchFree {
                                            // The same products as below, without branches on the
                                            // coefficients' signs (which a CPU cannot predict): one
                                            // of `pos`, `neg` is zero, so each sum is the one term.
                                            for e in 0..<outSize {
                                                let lam = l[base + e]
                                                let pos = Swift.max(lam, 0), neg = Swift.min(lam, 0)
                                                let v = pos * lo[e] + neg * up[e]
                                                let t = neg * ic[e]
                                                c += t
                                                cAbs += Swift.abs(t)
                                                o[base + e] += v
                                                a += Swift.abs(v) * m[e]
                                            }
                                        } else {
                                            for e in 0..<outSize {
                                                let lam = l[base + e]
                                                if lam == 0 { continue }
                                                let v: Double
                                                if lam >= 0 {
                                                    var slope = lo[e]
                                                    if let perRow, relaxation.isUnstable[e] {
                                                        let alpha = perRow[rowIndex[r] * outSize + e]
                                                        if alpha.isFinite { slope = Swift.min(Swift.max(alpha, 0), 1) }
                                                    }
                                                    v = lam * slope
                                                } else {
                                                    v = lam * up[e]
                                                    let t = lam * ic[e]
                                                    c += t
                                                    cAbs += Swift.abs(t)
                                                }
                                                o[base + e] += v
                                                a += Swift.abs(v) * m[e]
                                            }
                                        }
                                        absolute[r] = a
                                        if c != 0 {
                                            constant[r] += c
                                            slack[r] += SoundArithmetic.dotError(absoluteSum: cAbs, terms: outSize + 1)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                // Products with slopes 0 and 1 are exact, other slopes round; one term per entry.
                addSlack(absolute, old: old, terms: 1, node: p)
                if let multipliers = splitMultipliers?[j] {
                    let x = nodeBounds[p]
                    for e in 0..<outSize {
                        let mu = multipliers[e]
                        guard mu.isFinite, (mu < 0 && x.lower[e] >= 0) || (mu > 0 && x.upper[e] <= 0) else { continue }
                        for r in 0..<R { out[r * outSize + e] += mu }
                    }
                }
                coefficients[p] = out
                if stopPairsAtDecision {
                    stopDecidedPairs(&coefficients, below: j, constant: &constant, slack: &slack,
                                     rowIndex: &rowIndex, best: &best, rowCount: &R)
                    if R == 0 { break }
                }
            }
        }

        // Concretise at the input box: min over [l, u] of λ·x = λ·c − |λ|·r in centre-radius form.
        var result = best
        let box = nodeBounds[0]
        let n = box.lower.count
        let (centre, radius, magnitude) = IntervalArithmetic.centreRadius(box)
        for r in 0..<R {
            var value = constant[r], absolute = Swift.abs(constant[r])
            if let L = coefficients[0] {
                let (s, rad, a) = L.withUnsafeBufferPointer { l in
                    DenseProducts.centreRadiusSums(l.baseAddress! + r * n, centre: centre, radius: radius,
                                                   magnitude: magnitude, count: n)
                }
                value += s - rad
                absolute += a
            }
            let error = (SoundArithmetic.dotError(absoluteSum: absolute, terms: 2 * n + 2) + slack[r] * (1 + 0x1p-40)).nextUp
            result[rowIndex[r]] = Swift.max(best[rowIndex[r]], SoundArithmetic.lower(value, error: error))
        }
        return result
    }

    /// The first back-substitution step of the unit-row pairs of `neurons` at `start`, when it is
    /// a dense or convolution node (nil otherwise): the input node's coefficients (`±` the
    /// neuron's weight row, or its kernel taps at their input positions), the constants `±b_i`,
    /// and the two slack terms of the general step — the bias products' error, and the per-row
    /// `Σ|λ|·|A|M` (here the neuron's own operator magnitude) that `addSlack` scales with `terms`.
    private mutating func unitPairStep(start: Int, neurons: [Int])
        -> (coefficients: [Double], constant: [Double], biasSlack: [Double], absolute: [Double], terms: Int)? {
        let node = network.nodes[start]
        let R = 2 * neurons.count
        let outSize = node.size
        var constant = [Double](repeating: 0, count: R)
        var biasSlack = [Double](repeating: 0, count: R)
        var absolute = [Double](repeating: 0, count: R)
        func setScalars(_ q: Int, bias: Double, magnitude: Double) {
            let error = SoundArithmetic.dotError(absoluteSum: Swift.abs(bias), terms: outSize + 1)
            // `0 + (±1)·b`, as the general step sums it (its other terms are exact zeros).
            constant[2 * q] = 0 + bias
            constant[2 * q + 1] = 0 - bias
            biasSlack[2 * q] = error
            biasSlack[2 * q + 1] = error
            absolute[2 * q] = magnitude
            absolute[2 * q + 1] = magnitude
        }
        switch node.operation {
        case .dense(let d):
            let nIn = d.weights.columns
            let opMag = operatorMagnitude(start)
            // Every entry is written below.
            let out = d.weights.values.withUnsafeBufferPointer { w in
                [Double](unsafeUninitializedCapacity: R * nIn) { o, count in
                    for (q, i) in neurons.enumerated() {
                        setScalars(q, bias: d.bias[i], magnitude: opMag[i])
                        let row = w.baseAddress! + i * nIn
                        let plus = o.baseAddress! + (2 * q) * nIn, minus = plus + nIn
                        for k in 0..<nIn {
                            plus[k] = 0 + row[k]
                            minus[k] = 0 - row[k]
                        }
                    }
                    count = R * nIn
                }
            }
            return (out, constant, biasSlack, absolute, outSize)
        case .convolution(let conv):
            let geometry = ConvolutionGeometry(conv)
            let perChannel = geometry.outH * geometry.outW
            let nIn = geometry.inputSize
            let opMag = operatorMagnitude(start)
            var out = [Double](repeating: 0, count: R * nIn)
            conv.weights.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    for (q, i) in neurons.enumerated() {
                        let m = i / perChannel
                        setScalars(q, bias: conv.bias[m], magnitude: opMag[i])
                        let plus = o.baseAddress! + (2 * q) * nIn, minus = plus + nIn
                        // Each tap of one output position reads its own input entry.
                        geometry.forEachTap(output: m, row: (i % perChannel) / geometry.outW, column: i % geometry.outW) { wi, xi in
                            plus[xi] = 0 + w[wi]
                            minus[xi] = 0 - w[wi]
                        }
                    }
                }
            }
            return (out, constant, biasSlack, absolute, geometry.transposedTerms)
        default:
            return nil
        }
    }

    /// Sound lower bounds of the rows at the current frontier (every node below `j` that holds
    /// coefficients), each frontier node concretised at its own bounds in centre-radius form.
    private func frontierLowerBounds(_ coefficients: [[Double]?], below j: Int, constant: [Double],
                                     slack: [Double], rowCount R: Int) -> [Double] {
        var value = constant
        var absolute = constant.map { Swift.abs($0) }
        var terms = 2
        for p in 0..<j {
            guard let L = coefficients[p] else { continue }
            let n = nodeBounds[p].lower.count
            terms += 2 * n
            let (centre, radius, magnitude) = IntervalArithmetic.centreRadius(nodeBounds[p])
            L.withUnsafeBufferPointer { l in
                for r in 0..<R {
                    let (s, rad, a) = DenseProducts.centreRadiusSums(l.baseAddress! + r * n, centre: centre,
                                                                    radius: radius, magnitude: magnitude, count: n)
                    value[r] += s - rad
                    absolute[r] += a
                }
            }
        }
        return (0..<R).map { r in
            let error = (SoundArithmetic.dotError(absoluteSum: absolute[r], terms: terms) + slack[r] * (1 + 0x1p-40)).nextUp
            let bound = SoundArithmetic.lower(value[r], error: error)
            return bound.isNaN ? -.infinity : bound
        }
    }

    /// Records the frontier bounds of every row in `best`, and drops the pairs of rows (`x_i`,
    /// `−x_i`, adjacent) of which one is already `≥ 0` there: the neuron's sign is decided.
    private func stopDecidedPairs(_ coefficients: inout [[Double]?], below j: Int, constant: inout [Double],
                                  slack: inout [Double], rowIndex: inout [Int], best: inout [Double],
                                  rowCount R: inout Int) {
        let bounds = frontierLowerBounds(coefficients, below: j, constant: constant, slack: slack, rowCount: R)
        var keep: [Int] = []
        keep.reserveCapacity(R)
        for r in stride(from: 0, to: R, by: 2) {
            best[rowIndex[r]] = Swift.max(best[rowIndex[r]], bounds[r])
            best[rowIndex[r + 1]] = Swift.max(best[rowIndex[r + 1]], bounds[r + 1])
            if bounds[r] < 0 && bounds[r + 1] < 0 { keep += [r, r + 1] }
        }
        guard keep.count < R else { return }
        for p in 0..<j {
            guard let L = coefficients[p] else { continue }
            let n = nodeBounds[p].lower.count
            var compact = [Double](repeating: 0, count: keep.count * n)
            for (to, from) in keep.enumerated() {
                compact[(to * n)..<((to + 1) * n)] = L[(from * n)..<((from + 1) * n)]
            }
            coefficients[p] = compact
        }
        constant = keep.map { constant[$0] }
        slack = keep.map { slack[$0] }
        rowIndex = keep.map { rowIndex[$0] }
        R = keep.count
    }
}
