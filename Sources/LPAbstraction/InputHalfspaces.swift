import Network

/// Bounds of a first dense layer's neurons over the input box cut by the halfspaces of the same
/// layer's fixed phases.
///
/// A first-layer neuron `i` fixed active restricts the region to `w_i·x + b_i ≥ 0` (inactive: `≤ 0`),
/// a halfspace of the input space. Interval arithmetic and back-substitution bound the layer's
/// other neurons over the box alone, and clipping `i`'s own bounds cannot carry the cut to its
/// neighbours. For one halfspace `g·x + g₀ ≥ 0` the best bound is a one-dimensional problem:
/// `max a·x + a₀` over the box and the halfspace equals (LP duality) `min_{β ≥ 0} U(β)` with
/// `U(β) = max_{x ∈ box} (a + βg)·x + a₀ + βg₀`, a convex piecewise-linear function whose
/// breakpoints are where a coordinate of `a + βg` changes sign. Walking them in order until the
/// slope turns non-negative finds the minimiser exactly; the bound is then evaluated at that `β`
/// with rounding-error slack (``SoundArithmetic``), so any `β` gives a sound bound and only the
/// tightness depends on the walk. Each neuron takes the best bound over the halfspaces, one at a
/// time (beta-CROWN's multipliers, solved exactly for the first layer instead of by gradient steps).
enum InputHalfspaces {
    /// The box in centre-radius form, with `|c| + r` per coordinate (bounding `|x|`).
    struct Domain {
        var centre: [Double]
        var radius: [Double]
        var magnitude: [Double]

        init(_ box: Box) {
            (centre, radius, magnitude) = IntervalArithmetic.centreRadius(LayerBounds(lower: box.lower, upper: box.upper))
        }
    }

    /// A fixed first-layer neuron's halfspace `σ(w_i·x + b_i) ≥ 0` (`σ = 1` active, `−1` inactive).
    struct Cut {
        var index: Int
        var sign: Double
    }

    /// The halfspaces of the neurons `phases` fixes (only those not fixed in `since`, when given)
    /// that cut the box: a neuron stable over the box alone (most implied phases) adds nothing.
    static func cuts(layer: DenseLayer, domain: Domain, phases: [Phase?], since: [Phase?]? = nil) -> [Cut] {
        let n = layer.weights.columns
        return layer.weights.values.withUnsafeBufferPointer { w in
            phases.indices.compactMap { i -> Cut? in
                guard let phase = phases[i], since?[i] == nil else { return nil }
                var s = layer.bias[i], rad = 0.0
                for k in 0..<n {
                    s += w[i * n + k] * domain.centre[k]
                    rad += Swift.abs(w[i * n + k]) * domain.radius[k]
                }
                guard s - rad < 0, s + rad > 0 else { return nil }
                return Cut(index: i, sign: phase == .active ? 1 : -1)
            }
        }
    }

    /// Tightens `bounds` (of `layer`'s pre-activations over `box`) by the halfspaces of the neurons
    /// `phases` fixes, using only those not fixed in `since` when it is given (their cuts are in
    /// `bounds` already, as an ancestor's bounds carried over). Neurons `phases` fixes, and stable
    /// ones, are left alone: only unstable free neurons gain anything.
    static func tighten(_ bounds: inout LayerBounds, layer: DenseLayer, box: Box, phases: [Phase?], since: [Phase?]?) {
        guard phases.indices.contains(where: { phases[$0] != nil && since?[$0] == nil }) else { return }
        let targets = bounds.lower.indices.filter { j in phases[j] == nil && bounds.lower[j] < 0 && bounds.upper[j] > 0 }
        guard !targets.isEmpty else { return }
        let domain = Domain(box)
        let cuts = cuts(layer: layer, domain: domain, phases: phases, since: since)
        guard !cuts.isEmpty else { return }
        let n = layer.weights.columns
        var scratch = Scratch(count: n)
        layer.weights.values.withUnsafeBufferPointer { w in
            for cut in cuts {
                let g = UnsafeBufferPointer(rebasing: w[cut.index * n..<(cut.index + 1) * n])
                let g0 = layer.bias[cut.index]
                for j in targets where bounds.lower[j] < 0 && bounds.upper[j] > 0 {
                    let a = UnsafeBufferPointer(rebasing: w[j * n..<(j + 1) * n])
                    let upper = minimizedUpperBound(a: a, aSign: 1, a0: layer.bias[j], g: g, gSign: cut.sign, g0: g0,
                                                    domain: domain, scratch: &scratch)
                    bounds.upper[j] = Swift.min(bounds.upper[j], upper)
                    let negatedUpper = minimizedUpperBound(a: a, aSign: -1, a0: -layer.bias[j], g: g, gSign: cut.sign,
                                                           g0: g0, domain: domain, scratch: &scratch)
                    bounds.lower[j] = Swift.max(bounds.lower[j], -negatedUpper)
                }
            }
        }
    }

    /// Reused buffers of the breakpoint walk.
    struct Scratch {
        var breakpoints: [(at: Double, rise: Double)] = []
        init(count: Int) { breakpoints.reserveCapacity(count) }
    }

    /// A sound upper bound of `max (σ_a a)·x + a₀` over the box ∧ `σ_g (g·x + g₀) ≥ 0`: `U(β)` at
    /// the minimiser the breakpoint walk finds, or `+∞` when that is `β = 0` (the interval bound)
    /// or the inputs are not finite.
    static func minimizedUpperBound(a: UnsafeBufferPointer<Double>, aSign: Double, a0: Double,
                                    g: UnsafeBufferPointer<Double>, gSign: Double, g0: Double,
                                    domain: Domain, scratch: inout Scratch) -> Double {
        let n = a.count
        // U'(β) just right of 0. When it is non-negative, β = 0 is optimal: U(0) is the interval
        // bound the caller has already.
        var slope = gSign * g0
        for k in 0..<n {
            let ak = aSign * a[k], gk = gSign * g[k]
            let side = ak > 0 || (ak == 0 && gk > 0) ? domain.radius[k] : -domain.radius[k]
            slope += gk * (domain.centre[k] + side)
        }
        guard slope.isFinite, slope < 0 else { return .infinity }
        // The breakpoints, where U' rises by 2|g_k|r_k (a_k + βg_k turns from the sign of a_k to
        // the sign of g_k); the minimiser is the first where U' turns non-negative.
        scratch.breakpoints.removeAll(keepingCapacity: true)
        for k in 0..<n {
            let ak = aSign * a[k], gk = gSign * g[k]
            let r = domain.radius[k]
            if r > 0 && ak * gk < 0 { scratch.breakpoints.append((-ak / gk, 2 * Swift.abs(gk) * r)) }
        }
        guard !scratch.breakpoints.isEmpty else { return .infinity }
        scratch.breakpoints.sort { $0.at < $1.at }
        var beta = 0.0
        for point in scratch.breakpoints {
            beta = point.at
            slope += point.rise
            if slope >= 0 { break }
        }
        // U(β) in floating point, with the error of forming a + βg (within 3u(|a_k| + |βg_k|)
        // entrywise) and of the sum (2n + 4 terms) covered by `dotError`.
        var value = a0 + beta * gSign * g0
        var absolute = Swift.abs(a0) + Swift.abs(beta * g0)
        for k in 0..<n {
            let ak = aSign * a[k], bgk = beta * (gSign * g[k])
            let v = ak + bgk
            value += v * domain.centre[k] + Swift.abs(v) * domain.radius[k]
            absolute += (Swift.abs(ak) + Swift.abs(bgk)) * domain.magnitude[k]
        }
        guard value.isFinite, absolute.isFinite else { return .infinity }
        return SoundArithmetic.upper(value, error: SoundArithmetic.dotError(absoluteSum: 2 * absolute, terms: 2 * n + 4))
    }
}
