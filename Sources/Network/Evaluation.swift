/// Forward evaluation of a ``Network`` in `Double` or `Float`.
///
/// `Float` evaluation exists because ONNX runtimes compute in float32: a counterexample is only
/// trusted when it violates the property in both precisions. Weights are rounded to `T` first,
/// which is exact for `Float` since they came from float32 tensors.
extension Network {
    // Exported specialisations: without them, callers in other modules run the unspecialised
    // generic code, which boxes every arithmetic operation and is ~50x slower.

    /// The output for one input vector (flattened, row-major).
    @_specialize(exported: true, where T == Double)
    @_specialize(exported: true, where T == Float)
    public func evaluate<T: BinaryFloatingPoint>(_ input: [T]) -> [T] {
        nodeValues(input)[output]
    }

    /// The value of every node for one input vector; index `i` holds node `i`'s output.
    @_specialize(exported: true, where T == Double)
    @_specialize(exported: true, where T == Float)
    public func nodeValues<T: BinaryFloatingPoint>(_ input: [T]) -> [[T]] {
        precondition(input.count == inputSize, "expected \(inputSize) input values, got \(input.count)")
        var values: [[T]] = []
        values.reserveCapacity(nodes.count)
        for node in nodes {
            let x = node.inputs.first.map { values[$0] } ?? input
            switch node.operation {
            case .input:
                values.append(input)
            case .dense(let d):
                values.append(Self.apply(d, to: x))
            case .convolution(let c):
                values.append(Self.apply(c, to: x))
            case .elementwiseAffine(let scale, let shift):
                values.append((0..<x.count).map { T(scale[$0]) * x[$0] + T(shift[$0]) })
            case .add:
                let y = values[node.inputs[1]]
                values.append((0..<x.count).map { x[$0] + y[$0] })
            case .relu:
                values.append(x.map { $0 > 0 ? $0 : 0 })
            }
        }
        return values
    }

    static func apply<T: BinaryFloatingPoint>(_ d: DenseLayer, to x: [T]) -> [T] {
        let n = d.weights.columns
        var y = [T](repeating: 0, count: d.weights.rows)
        d.weights.values.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { v in
                for i in 0..<d.weights.rows {
                    var s: T = 0
                    let base = i * n
                    for j in 0..<n { s += T(w[base + j]) * v[j] }
                    y[i] = s + T(d.bias[i])
                }
            }
        }
        return y
    }

    static func apply<T: BinaryFloatingPoint>(_ c: Convolution, to x: [T]) -> [T] {
        ConvolutionGeometry(c).forward(x, weights: c.weights, bias: c.bias)
    }
}
