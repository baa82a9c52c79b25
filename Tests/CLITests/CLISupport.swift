import Foundation
import XCTest

/// Runs the `nnverify` executable that SwiftPM built next to the test bundle.
enum CLI {
    /// The executable: `NNVERIFY_BIN` if set, else `nnverify` beside the running test bundle.
    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["NNVERIFY_BIN"] { return URL(fileURLWithPath: path) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test runner is `<build>/NNVerifyPackageTests.xctest`; on macOS it sits inside a bundle.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("nnverify").path), dir.pathComponents.count > 1 {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("nnverify")
    }

    /// The repository root (for `benchmarks/`).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared` beside the repository, or a skip with a clear message.
    static func shared() throws -> URL {
        let url = repository.deletingLastPathComponent().appendingPathComponent("shared")
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent("benchmarks").path) else {
            throw XCTSkip("../shared not found at \(url.path): the VNN-COMP benchmarks are not in the repository; put them beside it to run this test")
        }
        return url
    }
}
