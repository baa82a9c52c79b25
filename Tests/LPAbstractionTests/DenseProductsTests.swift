import XCTest
@testable import LPAbstraction

/// The CPU-side products behind back-substitution against plain loops.
final class DenseProductsTests: XCTestCase {
    /// Skipping the all-zero columns of `a` (a back-substitution's stably inactive neurons) gives
    /// the product of the whole matrices, with and without accumulation, whatever share is zero.
    func testProductWithoutZeroColumnsMatchesTheWholeProduct() {
        var rng = SplitMix64(seed: 11)
        for (m, k, n, zeroShare) in [(7, 40, 33, 0.5), (12, 64, 9, 0.0), (5, 16, 20, 1.0), (3, 30, 8, 0.6), (9, 50, 17, 0.1)] {
            let zero = (0..<k).map { _ in Double.random(in: 0..<1, using: &rng) < zeroShare }
            let a = (0..<(m * k)).map { i in zero[i % k] ? 0 : Double.random(in: -1...1, using: &rng) }
            let b = (0..<(k * n)).map { _ in Double.random(in: -1...1, using: &rng) }
            let start = (0..<(m * n)).map { _ in Double.random(in: -1...1, using: &rng) }
            for accumulate in [false, true] {
                var expected = accumulate ? start : [Double](repeating: 0, count: m * n)
                for r in 0..<m {
                    for j in 0..<k {
                        for c in 0..<n { expected[r * n + c] += a[r * k + j] * b[j * n + c] }
                    }
                }
                var got = start
                DenseProducts.multiplySkippingZeroColumns(a, b, into: &got, m: m, k: k, n: n, accumulate: accumulate)
                for i in got.indices {
                    XCTAssertEqual(got[i], expected[i], accuracy: 1e-12, "m \(m) k \(k) n \(n) share \(zeroShare) entry \(i)")
                }
            }
        }
    }

    /// The four-way partial sums of a linear form at a box agree with one running sum each.
    func testCentreRadiusSumsMatchRunningSums() {
        var rng = SplitMix64(seed: 12)
        for n in [0, 1, 3, 4, 5, 17, 784] {
            let a = (0..<n).map { _ in Double.random(in: -2...2, using: &rng) }
            let c = (0..<n).map { _ in Double.random(in: -1...1, using: &rng) }
            let r = (0..<n).map { _ in Double.random(in: 0...1, using: &rng) }
            let m = zip(c, r).map { abs($0) + $1 }
            var s = 0.0, d = 0.0, g = 0.0
            for i in 0..<n {
                s += a[i] * c[i]
                d += abs(a[i]) * r[i]
                g += abs(a[i]) * m[i]
            }
            let sums = DenseProducts.centreRadiusSums(a, centre: c, radius: r, magnitude: m, count: n)
            XCTAssertEqual(sums.value, s, accuracy: 1e-12)
            XCTAssertEqual(sums.spread, d, accuracy: 1e-12)
            XCTAssertEqual(sums.magnitude, g, accuracy: 1e-12)
        }
    }
}
