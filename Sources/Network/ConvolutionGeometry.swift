/// Index arithmetic of a ``Convolution``: the one place that maps an output position and a
/// kernel tap to the weight and input they read, shared by forward evaluation
/// (``Network/evaluate(_:)``), the gradient's forward and backward passes (``NetworkGradient``),
/// and bound propagation (the forward pass over bound vectors, the transposed pass over
/// back-substitution coefficients).
///
/// Every kernel here sums in the same order (input channel, kernel row, kernel column), so a
/// caller that switches to it computes the same values to the bit.
public struct ConvolutionGeometry: Sendable {
    /// The convolution whose strides, pads and dilations place the kernel.
    public let conv: Convolution
    /// Input channels, height and width.
    public let inC: Int, inH: Int, inW: Int
    /// Output channels, height and width.
    public let outC: Int, outH: Int, outW: Int
    /// Input channels per group (``Convolution/channelsPerGroup``).
    public let cpg: Int
    /// Output channels per group.
    public let outPerGroup: Int
    /// Kernel height and width.
    public let kH: Int, kW: Int
    /// Strides, dilations and the top and left padding, read once from ``conv``.
    @usableFromInline let strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int

    /// The geometry of `conv`.
    public init(_ conv: Convolution) {
        self.conv = conv
        (inC, inH, inW) = (conv.inputShape[0], conv.inputShape[1], conv.inputShape[2])
        let out = conv.outputShape
        (outC, outH, outW) = (out[0], out[1], out[2])
        cpg = conv.channelsPerGroup
        outPerGroup = conv.outChannels / conv.groups
        (kH, kW) = (conv.kernel.height, conv.kernel.width)
        (strideH, strideW) = (conv.strides.height, conv.strides.width)
        (dilationH, dilationW) = (conv.dilations.height, conv.dilations.width)
        (padTop, padLeft) = (conv.pads.top, conv.pads.left)
    }

    /// Number of input values (`inC · inH · inW`).
    public var inputSize: Int { inC * inH * inW }
    /// Number of output values (`outC · outH · outW`).
    public var outputSize: Int { outC * outH * outW }
    /// The most products that sum into one entry of the transposed convolution.
    public var transposedTerms: Int { outPerGroup * kH * kW }

    /// The input row that kernel row `kh` reads for output row `oh`; outside `0..<inH` it lies in
    /// the zero padding.
    @inlinable @inline(__always)
    public func inputRow(_ oh: Int, kernelRow kh: Int) -> Int { oh * strideH - padTop + kh * dilationH }

    /// The input column that kernel column `kw` reads for output column `ow`; outside `0..<inW`
    /// it lies in the zero padding.
    @inlinable @inline(__always)
    public func inputColumn(_ ow: Int, kernelColumn kw: Int) -> Int { ow * strideW - padLeft + kw * dilationW }

    /// Calls `body(weightIndex, inputIndex)` for each kernel tap of output channel `m` at output
    /// position (`oh`, `ow`) that reads inside the input (the padding reads zeros), in the order
    /// every kernel here sums in: input channel, kernel row, kernel column.
    @inlinable @inline(__always)
    public func forEachTap(output m: Int, row oh: Int, column ow: Int, _ body: (Int, Int) -> Void) {
        let g = m / outPerGroup
        for ci in 0..<cpg {
            let channel = g * cpg + ci
            for kh in 0..<kH {
                let ih = inputRow(oh, kernelRow: kh)
                if ih < 0 || ih >= inH { continue }
                let wRow = ((m * cpg + ci) * kH + kh) * kW
                let xRow = (channel * inH + ih) * inW
                for kw in 0..<kW {
                    let iw = inputColumn(ow, kernelColumn: kw)
                    if iw < 0 || iw >= inW { continue }
                    body(wRow + kw, xRow + iw)
                }
            }
        }
    }

    /// The convolution of `x` with `weights` (same layout as ``Convolution/weights``), plus
    /// `bias[m]` on output channel `m` when a bias is given; products are formed in `T` after
    /// rounding each weight to `T`.
    @inlinable
    public func forward<T: BinaryFloatingPoint>(_ x: [T], weights: [Double], bias: [Double]? = nil) -> [T] {
        var y = [T](repeating: 0, count: outputSize)
        weights.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { v in
                y.withUnsafeMutableBufferPointer { out in
                    guard let input = v.baseAddress, let output = out.baseAddress else { return }
                    forward(input, weights: w, bias: bias, into: output)
                }
            }
        }
        return y
    }

    /// Writes the convolution of `x` (``inputSize`` values) with `w`, plus `bias[m]` on output
    /// channel `m` when a bias is given, into `y` (``outputSize`` values).
    @inlinable
    public func forward<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, weights w: UnsafeBufferPointer<Double>,
                                                bias: [Double]?, into y: UnsafeMutablePointer<T>) {
        for m in 0..<outC {
            for oh in 0..<outH {
                for ow in 0..<outW {
                    var s: T = 0
                    forEachTap(output: m, row: oh, column: ow) { s += T(w[$0]) * x[$1] }
                    let o = (m * outH + oh) * outW + ow
                    if let bias { y[o] = s + T(bias[m]) } else { y[o] = s }
                }
            }
        }
    }

    /// The three sums of a convolution over a box in centre-radius form, in one pass over the
    /// taps: `Σ w·c`, `Σ |w|·r` and `Σ |w|·a` per output (no bias), for the centre `c`, radius `r`
    /// and magnitude `a` of the input box. Each sum runs in the order of ``forward(_:weights:bias:)``.
    public func centreRadiusSums(centre: [Double], radius: [Double], magnitude: [Double],
                                 weights: [Double]) -> (centre: [Double], radius: [Double], magnitude: [Double]) {
        var s = [Double](repeating: 0, count: outputSize), rad = s, mag = s
        weights.withUnsafeBufferPointer { w in
            centre.withUnsafeBufferPointer { c in
                radius.withUnsafeBufferPointer { r in
                    magnitude.withUnsafeBufferPointer { a in
                        for m in 0..<outC {
                            for oh in 0..<outH {
                                for ow in 0..<outW {
                                    var sc = 0.0, sr = 0.0, sa = 0.0
                                    forEachTap(output: m, row: oh, column: ow) { wi, xi in
                                        let wv = w[wi], aw = Swift.abs(wv)
                                        sc += wv * c[xi]
                                        sr += aw * r[xi]
                                        sa += aw * a[xi]
                                    }
                                    let o = (m * outH + oh) * outW + ow
                                    s[o] = sc
                                    rad[o] = sr
                                    mag[o] = sa
                                }
                            }
                        }
                    }
                }
            }
        }
        return (s, rad, mag)
    }

    /// Adds the transposed convolution of one coefficient row `lambda` (length ``outputSize``)
    /// into `target` (length ``inputSize``): every entry of `lambda` is scattered back over the
    /// input window that produced it, weighted by the kernel. Zero entries are skipped.
    ///
    /// This is the gradient of the convolution (``NetworkGradient``) and the back-substitution
    /// step through it.
    @inlinable @inline(__always)
    public func accumulateTransposed(_ lambda: UnsafePointer<Double>, weights w: UnsafeBufferPointer<Double>,
                                     into target: UnsafeMutablePointer<Double>) {
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
                            let ih = inputRow(oh, kernelRow: kh)
                            if ih < 0 || ih >= inH { continue }
                            let tBase = (channel * inH + ih) * inW
                            let wRow = (wBase + kh) * kW
                            for kw in 0..<kW {
                                let iw = inputColumn(ow, kernelColumn: kw)
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
