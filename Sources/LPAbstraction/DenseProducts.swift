import CBLAS
import Network

/// Dense matrix products for back-substitution, computed by OpenBLAS.
///
/// Soundness does not depend on how OpenBLAS evaluates a product: each entry of `C + A·B` is a sum
/// of `n + 1` terms (`n` products and the old entry) however the library blocks, reorders or fuses
/// (FMA) the work, and any such evaluation is within `γ_{n+1}·(|C| + |A|·|B|)` of the real value
/// (see ``SoundArithmetic``). That bound assumes a conventional `O(n³)` product, which OpenBLAS
/// is; a fast (Strassen-like) algorithm would break it.
enum DenseProducts {
    /// OpenBLAS runs single-threaded: the verifier already keeps every core busy with its own
    /// Dispatch workers (one bound computation each), and an OpenBLAS thread pool per call on top
    /// of that would oversubscribe the cores (and spin-wait) instead of speeding anything up.
    /// `openblas_set_num_threads` is process-wide; a `static let` runs it exactly once, thread-safely,
    /// before the first product.
    private static let singleThreaded: Void = {
        openblas_set_num_threads(1)
    }()

    /// Products with at most this many rows in `a` run as matrix-vector products.
    static let gemvRows = 4

    /// `c ← a·b` (or `c ← c + a·b` when `accumulate`), all row-major: `a` is `m × k`, `b` is
    /// `k × n`, `c` is `m × n`.
    static func multiply(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
                         into c: UnsafeMutablePointer<Double>,
                         m: Int, k: Int, n: Int, accumulate: Bool) {
        guard m > 0, n > 0 else { return }
        _ = singleThreaded
        if k == 0 {
            if !accumulate { c.update(repeating: 0, count: m * n) }
            return
        }
        // A product with a few rows goes row by row: `dgemm` packs all of `b` on every call, which
        // for one row costs about as much as the product itself. On mnist_gdvb hard-net-72 most
        // products are one objective row times a 1024-wide layer (3 % more nodes in 60 s).
        if m <= gemvRows {
            for r in 0..<m {
                cblas_dgemv(CblasRowMajor, CblasTrans, blasint(k), blasint(n), 1, b, blasint(n),
                            a + r * k, 1, accumulate ? 1 : 0, c + r * n, 1)
            }
            return
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    blasint(m), blasint(n), blasint(k),
                    1, a, blasint(k), b, blasint(n),
                    accumulate ? 1 : 0, c, blasint(n))
    }
}

extension DenseProducts {
    /// `y ← a·x` (or `y ← y + a·x` when `accumulate`): `a` is `m × n` row-major. The same
    /// rounding argument as ``multiply(_:_:into:m:k:n:accumulate:)`` holds: each entry is a sum of
    /// `n + 1` terms, in whatever order OpenBLAS chooses.
    static func multiplyVector(_ a: UnsafePointer<Double>, _ x: UnsafePointer<Double>,
                               into y: UnsafeMutablePointer<Double>, m: Int, n: Int, accumulate: Bool) {
        guard m > 0 else { return }
        _ = singleThreaded
        if n == 0 {
            if !accumulate { y.update(repeating: 0, count: m) }
            return
        }
        cblas_dgemv(CblasRowMajor, CblasNoTrans, blasint(m), blasint(n), 1, a, blasint(n), x, 1,
                    accumulate ? 1 : 0, y, 1)
    }
}

extension DenseProducts {
    /// `y ← a·x`, or `y ← aᵀ·x` when `transposed`, in single precision (OpenBLAS `sgemv`): `a` is
    /// `m × n` row-major, so `x` has `n` entries and `y` gets `m` (`m` and `n` when transposed).
    /// Only for the slope optimiser's search direction, never for a bound: it reads half the bytes
    /// of the `Double` product, and these products are bound by memory.
    static func multiplySingle(_ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                               into y: UnsafeMutablePointer<Float>, m: Int, n: Int, transposed: Bool) {
        let (inputs, outputs) = transposed ? (m, n) : (n, m)
        guard outputs > 0 else { return }
        _ = singleThreaded
        guard inputs > 0 else {
            y.update(repeating: 0, count: outputs)
            return
        }
        cblas_sgemv(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), 1, a, blasint(n),
                    x, 1, 0, y, 1)
    }
}

extension DenseProducts {
    /// `y ← y + α·x` over `count` entries (OpenBLAS `daxpy`). Each entry is the old one plus one
    /// product, rounded once (FMA) or twice, within the bound ``multiply(_:_:into:m:k:n:accumulate:)``
    /// relies on.
    static func addScaled(_ x: UnsafePointer<Double>, by alpha: Double, into y: UnsafeMutablePointer<Double>, count: Int) {
        guard count > 0 else { return }
        _ = singleThreaded
        cblas_daxpy(blasint(count), alpha, x, 1, y, 1)
    }
}

extension DenseProducts {
    /// `c ← aᵀ·b`, row-major: `a` is `k × m` (so `aᵀ` is `m × k`), `b` is `k × n` with row
    /// stride `ldb`, `c` is `m × n`.
    static func multiplyTransposed(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, ldb: Int,
                                   into c: UnsafeMutablePointer<Double>, m: Int, k: Int, n: Int) {
        guard m > 0, n > 0 else { return }
        _ = singleThreaded
        if k == 0 {
            c.update(repeating: 0, count: m * n)
            return
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
                    blasint(m), blasint(n), blasint(k),
                    1, a, blasint(m), b, blasint(ldb),
                    0, c, blasint(n))
    }
}

extension ConvolutionGeometry {
    /// The output positions `o` in `0..<count` whose input position `o·stride + offset` lies in
    /// `0..<size` (the rest read the zero padding): im2col's loops run over these only.
    @inline(__always)
    static func inside(count: Int, stride: Int, offset: Int, size: Int) -> Range<Int> {
        let first = offset >= 0 ? 0 : (stride - 1 - offset) / stride
        let last = size - 1 - offset   // the largest o·stride allowed
        guard last >= 0 else { return 0..<0 }
        let end = Swift.min(count, last / stride + 1)
        return first < end ? first..<end : 0..<0
    }
}

extension ConvolutionGeometry {
    /// `Σ_k λ_k · bias[channel of k]` over one coefficient row (``outputSize`` values), channel by
    /// channel (no division per entry), skipping zero coefficients. Unrounded: for optimiser
    /// estimates.
    func biasTerm(_ lambda: UnsafePointer<Double>, bias: [Double]) -> Double {
        let perChannel = outH * outW
        var sum = 0.0
        for channel in 0..<outC {
            let b = bias[channel]
            for k in (channel * perChannel)..<((channel + 1) * perChannel) where lambda[k] != 0 {
                sum += lambda[k] * b
            }
        }
        return sum
    }
}

extension ConvolutionGeometry {
    /// Adds the transposed convolution of each of `rowCount` coefficient rows (`lambda`, row-major,
    /// `rowCount × outputSize`) into the matching row of `target` (`rowCount × inputSize`).
    ///
    /// A dense row goes through OpenBLAS as im2col in reverse: per group, the column matrix
    /// `Wᵀ·Λ` (`(cpg·kH·kW) × (outH·outW)`) by `dgemm`, then each column entry added into the input
    /// position it came from. A sparse row (e.g. a unit row at the start of back-substitution)
    /// keeps the direct loop, which skips zero coefficients. Either way each target entry is the old
    /// entry plus at most ``transposedTerms`` products, summed in some order, so the rounding error
    /// bound of ``SoundArithmetic`` (which holds for every summation order) covers both.
    func accumulateTransposed(rows lambda: UnsafePointer<Double>, rowCount: Int,
                              weights w: UnsafeBufferPointer<Double>, into target: UnsafeMutablePointer<Double>) {
        let positions = outH * outW
        let kernelSize = cpg * kH * kW
        let sh = conv.strides.height, sw = conv.strides.width
        let dh = conv.dilations.height, dw = conv.dilations.width
        let pt = conv.pads.top, pl = conv.pads.left
        // Below this many non-zeros the direct loop does less work than the dense product.
        let denseThreshold = Swift.max(1, outputSize / 16)
        var columns = [Double](repeating: 0, count: kernelSize * positions)
        columns.withUnsafeMutableBufferPointer { buffer in
            let cols = buffer.baseAddress!
            for r in 0..<rowCount {
                let lrow = lambda + r * outputSize
                let trow = target + r * inputSize
                var nonzero = 0
                for i in 0..<outputSize where lrow[i] != 0 {
                    nonzero += 1
                    if nonzero >= denseThreshold { break }
                }
                if nonzero == 0 { continue }
                if nonzero < denseThreshold {
                    accumulateTransposed(lrow, weights: w, into: trow)
                    continue
                }
                for g in 0..<conv.groups {
                    DenseProducts.multiplyTransposed(w.baseAddress! + g * outPerGroup * kernelSize,
                                                     lrow + g * outPerGroup * positions, ldb: positions,
                                                     into: cols, m: kernelSize, k: outPerGroup, n: positions)
                    for ci in 0..<cpg {
                        let channel = g * cpg + ci
                        for kh in 0..<kH {
                            let rowOffset = kh * dh - pt
                            let validRows = Self.inside(count: outH, stride: sh, offset: rowOffset, size: inH)
                            for kw in 0..<kW {
                                let crow = cols + ((ci * kH + kh) * kW + kw) * positions
                                let columnOffset = kw * dw - pl
                                let validColumns = Self.inside(count: outW, stride: sw, offset: columnOffset, size: inW)
                                if validColumns.isEmpty { continue }
                                for oh in validRows {
                                    let tBase = trow + (channel * inH + oh * sh + rowOffset) * inW + columnOffset
                                    let cBase = crow + oh * outW
                                    if sw == 1 {
                                        for ow in validColumns { tBase[ow] += cBase[ow] }
                                    } else {
                                        for ow in validColumns { tBase[ow &* sw] += cBase[ow] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension ConvolutionGeometry {
    /// The convolution of one input vector `x` (plus each output channel's bias, when given) into
    /// `y`, through OpenBLAS (im2col): per group, the matrix of the input windows
    /// (`(cpg·kH·kW) × (outH·outW)`, zero in the padding), then the group's weight rows times it.
    /// Summed in BLAS's order, not ``forward(_:weights:bias:into:)``'s fixed one: for an
    /// optimiser's estimate, and for rounding-error magnitudes whose own error the caller covers
    /// for any summation order (``SoundArithmetic``), never for an evaluation. oval21
    /// cifar_base_kw: the direct loop was 14 % of a search's time in the optimiser's forward pass
    /// and 17 % in those magnitudes.
    func forwardThroughColumns(_ x: UnsafePointer<Double>, weights w: UnsafeBufferPointer<Double>,
                               bias: [Double]?, into y: UnsafeMutablePointer<Double>) {
        let positions = outH * outW
        let kernelSize = cpg * kH * kW
        let sw = conv.strides.width
        var columns = [Double](repeating: 0, count: kernelSize * positions)
        columns.withUnsafeMutableBufferPointer { buffer in
            let cols = buffer.baseAddress!
            for g in 0..<conv.groups {
                // Padding stays zero: `columns` starts zeroed and each group writes the same entries.
                for ci in 0..<cpg {
                    let input = x + (g * cpg + ci) * inH * inW
                    for kh in 0..<kH {
                        let rowOffset = inputRow(0, kernelRow: kh)
                        let validRows = Self.inside(count: outH, stride: conv.strides.height, offset: rowOffset, size: inH)
                        for kw in 0..<kW {
                            let crow = cols + ((ci * kH + kh) * kW + kw) * positions
                            let columnOffset = inputColumn(0, kernelColumn: kw)
                            let validColumns = Self.inside(count: outW, stride: sw, offset: columnOffset, size: inW)
                            if validColumns.isEmpty { continue }
                            for oh in validRows {
                                let xBase = input + (oh * conv.strides.height + rowOffset) * inW + columnOffset
                                let cBase = crow + oh * outW
                                if sw == 1 {
                                    for ow in validColumns { cBase[ow] = xBase[ow] }
                                } else {
                                    for ow in validColumns { cBase[ow] = xBase[ow &* sw] }
                                }
                            }
                        }
                    }
                }
                DenseProducts.multiply(w.baseAddress! + g * outPerGroup * kernelSize, UnsafePointer(cols),
                                       into: y + g * outPerGroup * positions,
                                       m: outPerGroup, k: kernelSize, n: positions, accumulate: false)
            }
        }
        guard let bias else { return }
        for m in 0..<outC {
            let out = y + m * positions
            let b = bias[m]
            for i in 0..<positions { out[i] += b }
        }
    }
}

extension ConvolutionGeometry {
    /// The convolution of `columns` inputs at once, stored transposed: `x` is
    /// `inputSize × columns` (`x[e * columns + r]`), `y` is `outputSize × columns`; each output
    /// gets its channel's bias. The batched optimiser's forward pass keeps its values in this
    /// layout so that the innermost loop runs over the columns, contiguous in both buffers.
    /// Unrounded: only an optimiser's gradient uses it, never a sound bound.
    func forwardColumns(_ x: UnsafePointer<Double>, columns R: Int, weights w: UnsafeBufferPointer<Double>,
                        bias: [Double], into y: UnsafeMutablePointer<Double>) {
        for m in 0..<outC {
            for oh in 0..<outH {
                for ow in 0..<outW {
                    let out = y + ((m * outH + oh) * outW + ow) * R
                    out.update(repeating: bias[m], count: R)
                    forEachTap(output: m, row: oh, column: ow) { wi, xi in
                        let weight = w[wi]
                        if weight == 0 { return }
                        let input = x + xi * R
                        for r in 0..<R { out[r] += weight * input[r] }
                    }
                }
            }
        }
    }
}

extension DenseProducts {
    /// `(Σ a_i·c_i, Σ |a_i|·r_i, Σ |a_i|·m_i)` over `count` entries: a linear form `a` at a box in
    /// centre-radius form (its value at the centre, its spread, and the magnitude for the rounding
    /// bound). Four partial sums each, so that the additions do not wait on one another; the error
    /// bounds of ``SoundArithmetic`` hold for every order of summation.
    @inline(__always)
    static func centreRadiusSums(_ a: UnsafePointer<Double>, centre c: UnsafePointer<Double>,
                                 radius r: UnsafePointer<Double>, magnitude m: UnsafePointer<Double>,
                                 count n: Int) -> (value: Double, spread: Double, magnitude: Double) {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var d0 = 0.0, d1 = 0.0, d2 = 0.0, d3 = 0.0
        var g0 = 0.0, g1 = 0.0, g2 = 0.0, g3 = 0.0
        var i = 0
        while i + 4 <= n {
            let a0 = a[i], a1 = a[i + 1], a2 = a[i + 2], a3 = a[i + 3]
            s0 += a0 * c[i]; s1 += a1 * c[i + 1]; s2 += a2 * c[i + 2]; s3 += a3 * c[i + 3]
            let b0 = Swift.abs(a0), b1 = Swift.abs(a1), b2 = Swift.abs(a2), b3 = Swift.abs(a3)
            d0 += b0 * r[i]; d1 += b1 * r[i + 1]; d2 += b2 * r[i + 2]; d3 += b3 * r[i + 3]
            g0 += b0 * m[i]; g1 += b1 * m[i + 1]; g2 += b2 * m[i + 2]; g3 += b3 * m[i + 3]
            i += 4
        }
        while i < n {
            let b = Swift.abs(a[i])
            s0 += a[i] * c[i]
            d0 += b * r[i]
            g0 += b * m[i]
            i += 1
        }
        return ((s0 + s1) + (s2 + s3), (d0 + d1) + (d2 + d3), (g0 + g1) + (g2 + g3))
    }
}

extension DenseProducts {
    /// ``multiply(_:_:into:m:k:n:accumulate:)`` without the columns of `a` that are zero in every
    /// row, and the matching rows of `b`. In back-substitution these are the stably inactive
    /// neurons (a ReLU slope of 0 on both sides): often half a layer, and as much of the product.
    /// Leaving out terms that are exact zeros changes no entry's real value, and each entry is
    /// then a sum of fewer terms, so the rounding bound for `k` terms still covers it.
    static func multiplySkippingZeroColumns(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
                                            into c: UnsafeMutablePointer<Double>,
                                            m: Int, k: Int, n: Int, accumulate: Bool) {
        // A few rows go by matrix-vector products, which a copy of `b` would cost as much as.
        guard m > gemvRows else {
            multiply(a, b, into: c, m: m, k: k, n: n, accumulate: accumulate)
            return
        }
        var used = [UInt8](repeating: 0, count: k)
        used.withUnsafeMutableBufferPointer { u in
            for r in 0..<m {
                let row = a + r * k
                for j in 0..<k { u[j] |= row[j] != 0 ? 1 : 0 }
            }
        }
        let kept = used.indices.filter { used[$0] != 0 }
        // Gathering costs a copy of the kept part of `b` (and of `a`); below an eighth saved the
        // product is not worth re-packing.
        guard kept.count < k - k / 8 else {
            multiply(a, b, into: c, m: m, k: k, n: n, accumulate: accumulate)
            return
        }
        let q = kept.count
        // Every entry is written below, so neither copy is zero-filled first (on mnistfc the
        // kept rows of a first layer's weights are a megabyte per product).
        let compactA = [Double](unsafeUninitializedCapacity: m * q) { ca, count in
            for r in 0..<m {
                for (t, j) in kept.enumerated() { ca[r * q + t] = a[r * k + j] }
            }
            count = m * q
        }
        let compactB = [Double](unsafeUninitializedCapacity: q * n) { cb, count in
            for (t, j) in kept.enumerated() {
                (cb.baseAddress! + t * n).initialize(from: b + j * n, count: n)
            }
            count = q * n
        }
        multiply(compactA, compactB, into: c, m: m, k: q, n: n, accumulate: accumulate)
    }
}
