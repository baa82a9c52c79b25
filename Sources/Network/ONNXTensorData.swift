import Foundation

/// Limits that keep a hostile or corrupt file from making the importer allocate without bound.
/// They are set just above the largest layers of VNN-COMP networks (VGG-16's first dense layer
/// has 25088 × 4096 ≈ 1.03e8 weights); the shared benchmarks stay below 1.3e6 values per tensor.
enum ONNXLimits {
    /// Most elements any one tensor may hold.
    static let maxTensorElements = 250_000_000
    /// Most entries of a dense matrix the importer builds (a Gemm or MatMul, and the gathers
    /// that materialise permutations and concatenations).
    static let maxMatrixEntries = 120_000_000
    /// Largest value accepted for a spatial attribute (kernel, stride, pad, dilation, group).
    static let maxAttribute = 1 << 20
}

/// A tensor whose value is known at import time (an initializer, a `Constant`, or a value folded
/// from them). Integer tensors are held as `Double` too: shapes and axes are far below 2^53.
struct ONNXConstant {
    var shape: [Int]
    var values: [Double]

    var count: Int { values.count }
}

/// Shape arithmetic shared by the importer; every function that can meet file data throws
/// instead of trapping.
enum ONNXShape {
    /// The number of elements of `dims`, rejecting negative dims, overflow and absurd sizes.
    static func elementCount(_ dims: [Int], limit: Int = ONNXLimits.maxTensorElements) -> Int? {
        var product = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = product.multipliedReportingOverflow(by: d)
            guard !overflow, p <= limit else { return nil }
            product = p
        }
        return product
    }

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= shape[i]
        }
        return strides
    }

    /// The numpy broadcast of two shapes, or nil when they are incompatible.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else { return nil }
        }
        return result
    }

    /// `values` (of shape `shape`) broadcast to `target`; `target` must be a broadcast of `shape`.
    static func expand(_ values: [Double], from shape: [Int], to target: [Int]) -> [Double] {
        if shape == target { return values }
        let count = target.reduce(1, *)
        let offset = target.count - shape.count
        let sourceStrides = strides(shape)
        // Per target axis: the source stride, or 0 where the source is broadcast along it.
        var axisStride = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count where shape[i] != 1 { axisStride[i + offset] = sourceStrides[i] }
        var result = [Double](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: target.count)
        var source = 0
        for j in 0..<count {
            result[j] = values[source]
            // Advance the multi-index like an odometer, keeping the source offset in step.
            var axis = target.count - 1
            while axis >= 0 {
                index[axis] += 1
                source += axisStride[axis]
                if index[axis] < target[axis] { break }
                source -= axisStride[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// The tensor shape without a leading batch dimension of 1, as ``Node/shape`` stores it.
    static func withoutBatch(_ shape: [Int]) -> [Int] {
        shape.count >= 2 && shape[0] == 1 ? Array(shape.dropFirst()) : shape
    }

    /// For a permutation `perm` of the axes of `shape`: the transposed shape and, for each element
    /// of the result, the flat index of the element of the input it comes from.
    static func transposeIndices(_ shape: [Int], perm: [Int]) -> (shape: [Int], source: [Int]) {
        let outShape = perm.map { shape[$0] }
        let inStrides = strides(shape)
        let permutedStrides = perm.map { inStrides[$0] }
        let count = shape.reduce(1, *)
        var source = [Int](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: outShape.count)
        var s = 0
        for j in 0..<count {
            source[j] = s
            var axis = outShape.count - 1
            while axis >= 0 {
                index[axis] += 1
                s += permutedStrides[axis]
                if index[axis] < outShape[axis] { break }
                s -= permutedStrides[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return (outShape, source)
    }
}

extension ONNXConstant {
    /// Decodes an initializer or `Constant` value, checking that the stored data matches the
    /// declared dims so a lying header can neither trap nor make us allocate.
    static func decode(_ tensor: Onnx_TensorProto, path: String, what: String) throws -> ONNXConstant {
        func fail(_ reason: String) -> NetworkError {
            .invalidGraph(path: path, reason: "\(what): \(reason)")
        }
        var shape: [Int] = []
        for d in tensor.dims {
            guard d >= 0, d <= Int64(ONNXLimits.maxTensorElements) else {
                throw fail("dimension \(d) in dims \(tensor.dims) is negative or too large")
            }
            shape.append(Int(d))
        }
        guard let count = ONNXShape.elementCount(shape) else {
            throw fail("dims \(tensor.dims) describe more than \(ONNXLimits.maxTensorElements) elements")
        }
        if tensor.dataLocation == .external {
            throw fail("tensor data stored outside the model file (external data) is not supported")
        }
        if tensor.hasSegment { throw fail("segmented tensors are not supported") }
        let raw = tensor.rawData

        func fromRaw(width: Int, _ convert: (UnsafeRawBufferPointer, Int) -> Double) throws -> [Double] {
            guard raw.count == count * width else {
                throw fail("raw_data holds \(raw.count) bytes, but dims \(shape) need \(count * width)")
            }
            return raw.withUnsafeBytes { buffer in (0..<count).map { convert(buffer, $0 * width) } }
        }
        func check(_ stored: Int, _ field: String) throws {
            guard stored == count else {
                throw fail("\(field) holds \(stored) values, but dims \(shape) need \(count)")
            }
        }

        let values: [Double]
        switch Int(tensor.dataType) {
        case Onnx_TensorProto.DataType.float.rawValue:
            if !raw.isEmpty {
                values = try fromRaw(width: 4) { b, o in
                    Double(Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt32.self))))
                }
            } else {
                try check(tensor.floatData.count, "float_data")
                values = tensor.floatData.map(Double.init)
            }
        case Onnx_TensorProto.DataType.double.rawValue:
            if !raw.isEmpty {
                values = try fromRaw(width: 8) { b, o in
                    Double(bitPattern: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
                }
            } else {
                try check(tensor.doubleData.count, "double_data")
                values = tensor.doubleData
            }
        case Onnx_TensorProto.DataType.int64.rawValue:
            if !raw.isEmpty {
                values = try fromRaw(width: 8) { b, o in
                    Double(Int64(littleEndian: b.loadUnaligned(fromByteOffset: o, as: Int64.self)))
                }
            } else {
                try check(tensor.int64Data.count, "int64_data")
                values = tensor.int64Data.map(Double.init)
            }
        case Onnx_TensorProto.DataType.int32.rawValue:
            if !raw.isEmpty {
                values = try fromRaw(width: 4) { b, o in
                    Double(Int32(littleEndian: b.loadUnaligned(fromByteOffset: o, as: Int32.self)))
                }
            } else {
                try check(tensor.int32Data.count, "int32_data")
                values = tensor.int32Data.map(Double.init)
            }
        default:
            let name = Onnx_TensorProto.DataType(rawValue: Int(tensor.dataType)).map { "\($0)" } ?? "\(tensor.dataType)"
            throw fail("data type \(name) is not supported (float, double, int64 and int32 are)")
        }
        if let bad = values.first(where: { !$0.isFinite }) {
            throw fail("holds the non-finite value \(bad)")
        }
        return ONNXConstant(shape: shape, values: values)
    }

    /// The values as integers (shapes, axes, permutations), or nil if any is not integral.
    var integers: [Int]? {
        var result: [Int] = []
        result.reserveCapacity(values.count)
        for v in values {
            guard v == v.rounded(), abs(v) <= 1e15 else { return nil }
            result.append(Int(v))
        }
        return result
    }
}
