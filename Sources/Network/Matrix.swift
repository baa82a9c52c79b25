/// A dense row-major matrix of `Double`.
///
/// Weights are stored in `Double` even though ONNX files hold `Float`: every `Float` converts to
/// `Double` exactly, so nothing is lost, and the bound computations downstream need `Double`.
public struct Matrix: Sendable, Equatable {
    /// Number of rows (outputs of a dense layer).
    public var rows: Int
    /// Number of columns (inputs of a dense layer).
    public var columns: Int
    /// Row-major entries: element (i, j) is at `i * columns + j`.
    public var values: [Double]

    /// Creates a matrix from row-major values; `values.count` must equal `rows * columns`.
    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(values.count == rows * columns, "matrix data does not match its shape")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A matrix of zeros.
    public init(rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, values: [Double](repeating: 0, count: rows * columns))
    }

    /// The identity matrix of size `n`.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m.values[i * n + i] = 1 }
        return m
    }

    /// Element (i, j).
    @inlinable
    public subscript(row: Int, column: Int) -> Double {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// The matrix transposed.
    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows)
        for i in 0..<rows {
            for j in 0..<columns { t.values[j * rows + i] = values[i * columns + j] }
        }
        return t
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> ArraySlice<Double> {
        values[(i * columns)..<((i + 1) * columns)]
    }

    /// The product `self * other`.
    public func multiplied(by other: Matrix) -> Matrix {
        precondition(columns == other.rows, "matrix shapes do not agree")
        var result = Matrix(rows: rows, columns: other.columns)
        values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                result.values.withUnsafeMutableBufferPointer { c in
                    for i in 0..<rows {
                        for k in 0..<columns {
                            let aik = a[i * columns + k]
                            if aik == 0 { continue }
                            let bRow = k * other.columns
                            let cRow = i * other.columns
                            for j in 0..<other.columns { c[cRow + j] += aik * b[bRow + j] }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The product `self * x` for a vector `x` of length `columns`.
    public func multiplied(by x: [Double]) -> [Double] {
        precondition(x.count == columns, "vector length does not match matrix columns")
        var y = [Double](repeating: 0, count: rows)
        values.withUnsafeBufferPointer { a in
            x.withUnsafeBufferPointer { v in
                for i in 0..<rows {
                    var s = 0.0
                    let base = i * columns
                    for j in 0..<columns { s += a[base + j] * v[j] }
                    y[i] = s
                }
            }
        }
        return y
    }
}
