import XCTest
@testable import VNNLib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parse time and peak memory on a large generated property (see `bench/vnnlib_parse.sh`).
///
/// Skipped unless `NNVERIFY_LARGE_VNNLIB` names the file, so the ordinary test run stays fast.
/// Peak memory is read from `VmHWM` after resetting it through `/proc/self/clear_refs`, so the
/// number is the parse's own peak rather than the test process's history.
final class LargeFileBenchmark: XCTestCase {
    func testParseLargeFile() throws {
        guard let path = ProcessInfo.processInfo.environment["NNVERIFY_LARGE_VNNLIB"], !path.isEmpty else {
            throw XCTSkip("set NNVERIFY_LARGE_VNNLIB to a generated property (bench/vnnlib_parse.sh does) to run this benchmark")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let before = Self.memory()
        let resetWorked = Self.resetPeak()
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = Self.threadCPUSeconds()
        let spec = try VNNLibParser.parse(contentsOf: path)
        let cpu = Self.threadCPUSeconds() - cpuStart
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let after = Self.memory()
        let resultBytes = spec.cases.reduce(0) { $0 + 16 * $1.lower.count }
        print(String(format: "vnnlib-bench: file %.1f MB, %d inputs, %d outputs, %d boxes, %d disjuncts, %d constraints",
                     Double(size) / 1e6, spec.inputCount, spec.outputCount, spec.boxCount, spec.disjunctCount, spec.constraintCount))
        // CPU time of this thread is the number to compare: wall time includes whatever else
        // the machine is doing.
        print(String(format: "vnnlib-bench: parse %.3f s wall, %.3f s CPU (%.1f MB/s of CPU time)",
                     seconds, cpu, Double(size) / 1e6 / cpu))
        print(String(format: "vnnlib-bench: RSS before %.1f MB, after %.1f MB, peak during parse %.1f MB%@; box arrays %.1f MB",
                     before.rss, after.rss, after.peak, resetWorked ? "" : " (peak not reset: includes earlier use)",
                     Double(resultBytes) / 1e6))
        XCTAssertGreaterThan(spec.inputCount, 0)
        withExtendedLifetime(spec) {}
    }

    /// CPU time consumed by the calling thread.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Current and peak resident set size in MB, from `/proc/self/status` (zero elsewhere).
    static func memory() -> (rss: Double, peak: Double) {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            let kB = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kB / 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }

    /// Resets `VmHWM` to the current RSS (Linux ≥ 4.0: write 5 to clear_refs).
    static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }
}
