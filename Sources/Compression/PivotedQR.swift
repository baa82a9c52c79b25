import Network

/// Householder QR with column pivoting, used to pick a well-conditioned basis among the weight
/// rows of stably active neurons.
///
/// Why pivoting: the folding step needs to decide which rows are linearly dependent on others.
/// Plain Gaussian elimination makes that decision on tiny pivots that rounding produced; QR with
/// column pivoting (Businger–Golub) picks at each step the column with the largest remaining
/// norm, so the rank decision compares each residual norm against the largest one.
struct PivotedQR {
    /// Column indices of the input matrix in pivot order; the first ``rank`` are the basis.
    let permutation: [Int]
    /// Numerical rank under the tolerance.
    let rank: Int

    /// Factorises `a` (`rows × columns`, row-major) and decides its rank: a column is dependent
    /// when its residual norm is at most `relativeTolerance` times the largest column norm.
    init(_ a: Matrix, relativeTolerance: Double) {
        let m = a.rows, n = a.columns
        var r = a.values
        var permutation = Array(0..<n)
        var norms = (0..<n).map { j in (0..<m).reduce(0.0) { $0 + r[$1 * n + j] * r[$1 * n + j] } }
        let largest = norms.max().map { $0.squareRoot() } ?? 0
        var rank = 0
        for k in 0..<min(m, n) {
            // Recompute residual norms exactly rather than downdating, so cancellation cannot hide a dependent column.
            for j in k..<n {
                var s = 0.0
                for i in k..<m { s += r[i * n + j] * r[i * n + j] }
                norms[j] = s
            }
            guard let p = (k..<n).max(by: { norms[$0] < norms[$1] }) else { break }
            if norms[p].squareRoot() <= relativeTolerance * largest || largest == 0 { break }
            if p != k {
                for i in 0..<m { r.swapAt(i * n + k, i * n + p) }
                norms.swapAt(k, p)
                permutation.swapAt(k, p)
            }
            // Householder reflection zeroing column k below the diagonal.
            var alpha = 0.0
            for i in k..<m { alpha += r[i * n + k] * r[i * n + k] }
            alpha = alpha.squareRoot()
            if r[k * n + k] > 0 { alpha = -alpha }
            var v = [Double](repeating: 0, count: m - k)
            for i in k..<m { v[i - k] = r[i * n + k] }
            v[0] -= alpha
            let vnorm = v.reduce(0) { $0 + $1 * $1 }
            if vnorm > 0 {
                for j in k..<n {
                    var dot = 0.0
                    for i in k..<m { dot += v[i - k] * r[i * n + j] }
                    let f = 2 * dot / vnorm
                    for i in k..<m { r[i * n + j] -= f * v[i - k] }
                }
            }
            rank += 1
        }
        self.permutation = permutation
        self.rank = rank
    }
}

/// Least-squares solution of `A X = B` for a full-column-rank `A` (`m × k`, `m ≥ k`) through the
/// normal equations solved by Cholesky on `AᵀA`, refined once; used to express dependent rows in
/// the chosen basis. Returns `nil` when `AᵀA` is not positive definite.
func leastSquares(_ a: Matrix, _ b: Matrix) -> Matrix? {
    let at = a.transposed
    let ata = at.multiplied(by: a)
    let k = ata.rows
    // Cholesky factor L with ata = L Lᵀ.
    var l = Matrix(rows: k, columns: k)
    for i in 0..<k {
        for j in 0...i {
            var s = ata[i, j]
            for p in 0..<j { s -= l[i, p] * l[j, p] }
            if i == j {
                guard s > 0 else { return nil }
                l[i, i] = s.squareRoot()
            } else {
                l[i, j] = s / l[j, j]
            }
        }
    }
    func solve(_ rhs: Matrix) -> Matrix {
        var x = rhs
        for c in 0..<x.columns {
            for i in 0..<k {
                var s = x[i, c]
                for p in 0..<i { s -= l[i, p] * x[p, c] }
                x[i, c] = s / l[i, i]
            }
            for i in stride(from: k - 1, through: 0, by: -1) {
                var s = x[i, c]
                for p in (i + 1)..<k { s -= l[p, i] * x[p, c] }
                x[i, c] = s / l[i, i]
            }
        }
        return x
    }
    var x = solve(at.multiplied(by: b))
    // One step of iterative refinement: the normal equations square the condition number.
    let residual = a.multiplied(by: x)
    var r = b
    for i in r.values.indices { r.values[i] -= residual.values[i] }
    let correction = solve(at.multiplied(by: r))
    for i in x.values.indices { x.values[i] += correction.values[i] }
    return x
}
