/// Rigorous rounding-error bounds for the floating-point computations behind every bound.
///
/// ## The scheme
///
/// All bounds are computed in `Double` with round-to-nearest, and then widened outward by an
/// a-priori bound on the rounding error, so that each bound is sound for the *real-valued*
/// network (weights and box taken as the exact `Double` values stored in the IR).
///
/// * A dot product `s = Σ_{i<n} a_i b_i` computed in floating point satisfies
///   `|fl(s) − s| ≤ γ_n Σ|a_i b_i|` with `γ_n = n·u / (1 − n·u)`, `u = 2⁻⁵³` (Higham, *Accuracy and
///   Stability of Numerical Algorithms*, §3.1), plus at most `n·η` when products underflow
///   (`η = 2⁻¹⁰⁷⁴`, the smallest subnormal). This holds for *every* order of summation, with or
///   without fused multiply-adds: any summation tree over `n` terms has depth at most `n − 1`, so
///   each product meets at most `n` roundings (Higham §3.1 and §3.5). That is what lets a BLAS
///   compute the products: OpenBLAS's `dgemm` blocks, reorders and vectorises the sums of `C + A·B`
///   freely, and each entry is still within `γ_{n+1}·(|C| + |A|·|B|)` of the real value (the old
///   entry counts as one more term). Only a conventional `O(n³)` product is covered; a fast
///   (Strassen-like) algorithm would not be, and OpenBLAS does not use one.
/// * The error terms themselves are sums of non-negative products computed in floating point, so
///   they may come out slightly too small; we use `2·γ_{n+2}` instead of `γ_n`, which covers that
///   (their own relative error is below `γ_m ≪ 1`) and one extra addition of a bias.
/// * A single operation (`a + b`, `a · b`) is made sound by stepping the rounded result one ulp
///   outward (`nextDown` / `nextUp`): round-to-nearest is never more than half an ulp away.
/// * Symbolic back-substitution computes coefficient matrices inexactly. Rather than rounding
///   every coefficient outward (which is meaningless for a linear form with sign-varying
///   variables), each back-substituted row carries an additive *slack*: if a step computes
///   `Λ' ≈ Λ·W` with entrywise error `E`, then for every value `v` of the layer below,
///   `|E·v| ≤ γ_n |Λ|·(|W|·M)` where `M` bounds `|v|` entrywise (from the interval bounds already
///   known for that node). Adding this to the row's slack keeps the inequality
///   `objective ≥ Λ'·v + c − slack` true in real arithmetic after every step; the final
///   concretisation at the input subtracts the slack and its own error bound.
/// * The coefficient products `Λ·W` of dense layers, and of convolutions for rows that are not
///   sparse, run in OpenBLAS (``DenseProducts``), in an order we do not control; by the first point
///   their entrywise error is still `|E| ≤ γ_{n+1}(|Λ_old| + |Λ|·|W|)`, so the slack is unchanged.
///   It needs only `|E|·M ≤ γ_{n+1}(|Λ_old|·M + |Λ|·(|W|·M))`, and the right-hand side is computed
///   as matrix–vector products in our own loops, with `|W|·M` replaced by the larger
///   `(Σ_j |W_kj|)·max M` (absolute row sums rounded up once per network; a product per node
///   and computation cost a tenth of the search on mnistfc): tighter and far cheaper than a
///   second `dgemm` forming `|Λ|·|W|` elementwise. Those loops round too (and may
///   underflow), by a relative `γ_m ≪ 1`, which the factor `2·γ_{n+2}` in place of `γ_{n+1}`
///   absorbs together with the `(n+2)·η·Σ M` underflow term.
/// * ReLU relaxations use rounded-up upper slopes and intercepts, so the relaxation that is
///   actually used is valid exactly (a steeper line through a higher point still lies above the
///   ReLU on `[l, u]`).
enum SoundArithmetic {
    /// The unit roundoff of `Double` (round-to-nearest).
    static let unitRoundoff = 0x1p-53
    /// The smallest positive subnormal, the absolute error bound of an underflowing product.
    static let eta = Double.leastNonzeroMagnitude

    /// `γ_n = n·u / (1 − n·u)`.
    @inline(__always)
    static func gamma(_ n: Int) -> Double {
        let nu = Double(n) * unitRoundoff
        return nu / (1 - nu)
    }

    /// A bound on the rounding error of a naive floating-point sum of `n` products (plus one bias
    /// term) whose absolute values sum to `absoluteSum`, enlarged to also cover the rounding of
    /// `absoluteSum` itself and underflow.
    @inline(__always)
    static func dotError(absoluteSum: Double, terms n: Int) -> Double {
        (2 * gamma(n + 2)) * absoluteSum + Double(n + 2) * eta
    }

    /// A lower bound on the real number whose floating-point approximation is `value` with
    /// absolute error at most `error`.
    @inline(__always)
    static func lower(_ value: Double, error: Double) -> Double {
        (value - error).nextDown
    }

    /// An upper bound on the real number whose floating-point approximation is `value` with
    /// absolute error at most `error`.
    @inline(__always)
    static func upper(_ value: Double, error: Double) -> Double {
        (value + error).nextUp
    }

    /// The centre-radius form of `[l, u]`: `c ± r ⊇ [l, u]` for the returned floating-point `c`
    /// and `r` (the radius is rounded up so the enclosure holds in real arithmetic).
    @inline(__always)
    static func centreRadius(lower l: Double, upper u: Double) -> (centre: Double, radius: Double) {
        if l == u { return (l, 0) }
        let c = 0.5 * (l + u)
        let r = Swift.max((u - c).nextUp, (c - l).nextUp)
        return (c, r)
    }
}
