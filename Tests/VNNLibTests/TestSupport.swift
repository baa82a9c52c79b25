import XCTest
@testable import VNNLib

/// Shared helpers for the VNNLib tests.
enum TestSupport {
    /// `/work/shared/benchmarks`, found next to the repository so the tests run from any clone.
    static var benchmarksDirectory: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // …/Tests/VNNLibTests/file → repo root
        return url.deletingLastPathComponent().appendingPathComponent("shared/benchmarks").path
    }

    /// The benchmark directory, or an `XCTSkip` explaining what is missing.
    static func requireBenchmarks() throws -> String {
        let dir = benchmarksDirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw XCTSkip("benchmark files not found at \(dir) (expected the shared folder next to the repository)")
        }
        return dir
    }

    /// Every `.vnnlib` file below `directory`, sorted.
    static func vnnlibFiles(in directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            if relative.hasSuffix(".vnnlib") { files.append(directory + "/" + relative) }
        }
        return files.sorted()
    }
}

/// Parses in-memory text, failing the test with the parser's message on error.
func parse(_ text: String, limits: VNNLibParser.Limits = .init(),
           file: StaticString = #filePath, line: UInt = #line) throws -> Specification {
    do {
        return try VNNLibParser.parse(text: text, path: "test.vnnlib", limits: limits)
    } catch {
        XCTFail("unexpected error: \(error)", file: file, line: line)
        throw error
    }
}

/// Asserts that parsing fails at `line:column` with a message containing `fragment`.
func assertError(_ text: String, line: Int?, column: Int?, _ fragment: String, kind: VNNLibError.Kind? = nil,
                 limits: VNNLibParser.Limits = .init(), file: StaticString = #filePath, line testLine: UInt = #line) {
    do {
        let spec = try VNNLibParser.parse(text: text, path: "bad.vnnlib", limits: limits)
        XCTFail("expected an error containing \"\(fragment)\", got a specification with \(spec.boxCount) boxes",
                file: file, line: testLine)
    } catch {
        XCTAssertEqual(error.path, "bad.vnnlib", file: file, line: testLine)
        XCTAssertEqual(error.location?.line, line, "line of: \(error)", file: file, line: testLine)
        XCTAssertEqual(error.location?.column, column, "column of: \(error)", file: file, line: testLine)
        XCTAssertTrue(error.message.contains(fragment), "\"\(error)\" should contain \"\(fragment)\"",
                      file: file, line: testLine)
        if let kind { XCTAssertEqual(error.kind, kind, "kind of: \(error)", file: file, line: testLine) }
    }
}

/// A small two-input, two-output header used by many syntax tests.
let header2x2 = """
(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(declare-const Y_1 Real)

"""

/// Box asserts for `X_0, X_1 ∈ [-1, 1]`.
let box2 = """
(assert (>= X_0 -1))
(assert (<= X_0 1))
(assert (>= X_1 -1))
(assert (<= X_1 1))

"""

/// The terms of a constraint as `(name, coefficient)` pairs, for readable assertions.
func terms(_ c: LinearConstraint) -> [String] {
    c.terms.map { "\($0.variable.vnnlibName)*\($0.coefficient)" }
}
