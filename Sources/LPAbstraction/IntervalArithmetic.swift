import Network

/// Sound interval arithmetic through the affine nodes (see ``SoundArithmetic`` for the rounding
/// scheme).
///
/// Each affine output is computed in centre-radius form, `W·c + b ± |W|·r`, which needs no branch
/// on the weight signs (so the loops vectorise), and is then widened by the rounding-error bound of
/// the whole sum, `2γ_{2n+2} (|W|(|c| + r) + |b|)`.
enum IntervalArithmetic {
    /// Bounds of `W x + b` for `x` in `input`.
    static func dense(_ d: DenseLayer, input: LayerBounds) -> LayerBounds {
        let n = d.weights.columns, m = d.weights.rows
        let (centre, radius, magnitude) = centreRadius(input)
        var lower = [Double](repeating: 0, count: m), upper = [Double](repeating: 0, count: m)
        d.weights.values.withUnsafeBufferPointer { w in
            centre.withUnsafeBufferPointer { c in
                radius.withUnsafeBufferPointer { r in
                    magnitude.withUnsafeBufferPointer { a in
                        for i in 0..<m {
                            let (s, rad, abs) = DenseProducts.centreRadiusSums(
                                w.baseAddress! + i * n, centre: c.baseAddress!, radius: r.baseAddress!,
                                magnitude: a.baseAddress!, count: n)
                            let b = d.bias[i]
                            let error = SoundArithmetic.dotError(absoluteSum: abs + Swift.abs(b), terms: 2 * n + 1)
                            lower[i] = SoundArithmetic.lower(s + b - rad, error: error)
                            upper[i] = SoundArithmetic.upper(s + b + rad, error: error)
                        }
                    }
                }
            }
        }
        return LayerBounds(lower: lower, upper: upper)
    }

    /// Bounds of a convolution's output for inputs in `input`.
    static func convolution(_ conv: Convolution, input: LayerBounds) -> LayerBounds {
        let (centre, radius, magnitude) = centreRadius(input)
        let terms = conv.channelsPerGroup * conv.kernel.height * conv.kernel.width
        var lower: [Double] = [], upper: [Double] = []
        let count = conv.outputShape.reduce(1, *)
        lower.reserveCapacity(count)
        upper.reserveCapacity(count)
        let geometry = ConvolutionGeometry(conv)
        let (s, rad, abs) = geometry.centreRadiusSums(centre: centre, radius: radius, magnitude: magnitude,
                                                      weights: conv.weights)
        let perChannel = count / conv.outChannels
        for o in 0..<count {
            let b = conv.bias[o / perChannel]
            let error = SoundArithmetic.dotError(absoluteSum: abs[o] + Swift.abs(b), terms: 2 * terms + 1)
            lower.append(SoundArithmetic.lower(s[o] + b - rad[o], error: error))
            upper.append(SoundArithmetic.upper(s[o] + b + rad[o], error: error))
        }
        return LayerBounds(lower: lower, upper: upper)
    }

    /// Bounds of `scale ⊙ x + shift`.
    static func elementwise(scale: [Double], shift: [Double], input: LayerBounds) -> LayerBounds {
        var lower = [Double](repeating: 0, count: scale.count), upper = lower
        for i in scale.indices {
            let s = scale[i]
            let (lo, hi) = s >= 0 ? (input.lower[i], input.upper[i]) : (input.upper[i], input.lower[i])
            // Two rounded operations, each stepped one ulp outward.
            lower[i] = ((s * lo).nextDown + shift[i]).nextDown
            upper[i] = ((s * hi).nextUp + shift[i]).nextUp
            if s == 0 { lower[i] = shift[i]; upper[i] = shift[i] }
        }
        return LayerBounds(lower: lower, upper: upper)
    }

    /// Bounds of `a + b`.
    static func add(_ a: LayerBounds, _ b: LayerBounds) -> LayerBounds {
        LayerBounds(lower: a.lower.indices.map { (a.lower[$0] + b.lower[$0]).nextDown },
                    upper: a.upper.indices.map { (a.upper[$0] + b.upper[$0]).nextUp })
    }

    /// Centre, radius and `|centre| + radius` of each interval.
    static func centreRadius(_ b: LayerBounds) -> (centre: [Double], radius: [Double], magnitude: [Double]) {
        var c = [Double](repeating: 0, count: b.lower.count), r = c, a = c
        for i in c.indices {
            (c[i], r[i]) = SoundArithmetic.centreRadius(lower: b.lower[i], upper: b.upper[i])
            a[i] = (Swift.abs(c[i]) + r[i]).nextUp
        }
        return (c, r, a)
    }
}
