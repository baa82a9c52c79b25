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
                            var s = 0.0, rad = 0.0, abs = 0.0
                            let base = i * n
                            for j in 0..<n {
                                let wij = w[base + j]
                                s += wij * c[j]
                                rad += Swift.abs(wij) * r[j]
                                abs += Swift.abs(wij) * a[j]
                            }
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
        let s = ConvolutionGeometry(conv).forward(centre, weights: conv.weights)
        let absWeights = conv.weights.map { Swift.abs($0) }
        let geometry = ConvolutionGeometry(conv)
        let rad = geometry.forward(radius, weights: absWeights)
        let abs = geometry.forward(magnitude, weights: absWeights)
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

/// Index arithmetic of a convolution, shared by the forward pass over bound vectors and the
/// transposed pass over back-substitution coefficients.
struct ConvolutionGeometry {
    let conv: Convolution
    let inC: Int, inH: Int, inW: Int
    let outC: Int, outH: Int, outW: Int
    let cpg: Int, outPerGroup: Int, kH: Int, kW: Int

    init(_ conv: Convolution) {
        self.conv = conv
        (inC, inH, inW) = (conv.inputShape[0], conv.inputShape[1], conv.inputShape[2])
        let out = conv.outputShape
        (outC, outH, outW) = (out[0], out[1], out[2])
        cpg = conv.channelsPerGroup
        outPerGroup = conv.outChannels / conv.groups
        (kH, kW) = (conv.kernel.height, conv.kernel.width)
    }

    var inputSize: Int { inC * inH * inW }
    var outputSize: Int { outC * outH * outW }
    /// The most products that sum into one entry of the transposed convolution.
    var transposedTerms: Int { outPerGroup * kH * kW }

    /// The convolution (no bias) of `x` with `weights` (same layout as ``Convolution/weights``).
    func forward(_ x: [Double], weights: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: outputSize)
        weights.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { v in
                y.withUnsafeMutableBufferPointer { out in
                    for m in 0..<outC {
                        let g = m / outPerGroup
                        for oh in 0..<outH {
                            for ow in 0..<outW {
                                var s = 0.0
                                for ci in 0..<cpg {
                                    let channel = g * cpg + ci
                                    for kh in 0..<kH {
                                        let ih = oh * conv.strides.height - conv.pads.top + kh * conv.dilations.height
                                        if ih < 0 || ih >= inH { continue }
                                        for kw in 0..<kW {
                                            let iw = ow * conv.strides.width - conv.pads.left + kw * conv.dilations.width
                                            if iw < 0 || iw >= inW { continue }
                                            s += w[((m * cpg + ci) * kH + kh) * kW + kw] * v[(channel * inH + ih) * inW + iw]
                                        }
                                    }
                                }
                                out[(m * outH + oh) * outW + ow] = s
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Adds the transposed convolution of one coefficient row `lambda` (length `outputSize`) into
    /// `target` (length `inputSize`).
    @inline(__always)
    func accumulateTransposed(_ lambda: UnsafePointer<Double>, weights w: UnsafeBufferPointer<Double>,
                              into target: UnsafeMutablePointer<Double>) {
        let sh = conv.strides.height, sw = conv.strides.width
        let dh = conv.dilations.height, dw = conv.dilations.width
        let pt = conv.pads.top, pl = conv.pads.left
        for m in 0..<outC {
            let g = m / outPerGroup
            for oh in 0..<outH {
                for ow in 0..<outW {
                    let l = lambda[(m * outH + oh) * outW + ow]
                    if l == 0 { continue }
                    for ci in 0..<cpg {
                        let channel = g * cpg + ci
                        let wBase = (m * cpg + ci) * kH
                        for kh in 0..<kH {
                            let ih = oh * sh - pt + kh * dh
                            if ih < 0 || ih >= inH { continue }
                            let tBase = (channel * inH + ih) * inW
                            let wRow = (wBase + kh) * kW
                            for kw in 0..<kW {
                                let iw = ow * sw - pl + kw * dw
                                if iw < 0 || iw >= inW { continue }
                                target[tBase + iw] += l * w[wRow + kw]
                            }
                        }
                    }
                }
            }
        }
    }
}
