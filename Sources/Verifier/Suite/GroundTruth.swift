import Foundation

/// Published verdicts of a benchmark family (`results.csv` with a header naming at least `onnx`,
/// `vnnlib` and `verdict`), matched to instances by file names as `groundtruth.py` does, so any
/// path prefix works. Verdicts are only ever compared against, never used to answer.
public struct GroundTruth: Sendable {
    private var verdicts: [String: String] = [:]

    /// Reads a results file.
    public init(contentsOf path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SuiteError.unreadable(path: path, reason: error.localizedDescription)
        }
        // `isNewline` also splits CRLF, which Swift reads as one Character: VNN-COMP files use both.
        var lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        guard !lines.isEmpty else { throw SuiteError.malformed(path: path, line: 1, reason: "empty file") }
        let header = lines.removeFirst()
        guard let onnx = header.firstIndex(of: "onnx"), let vnnlib = header.firstIndex(of: "vnnlib"),
              let verdict = header.firstIndex(of: "verdict") else {
            throw SuiteError.malformed(path: path, line: 1, reason: "header must name the columns onnx, vnnlib and verdict")
        }
        for (number, fields) in lines.enumerated() {
            guard fields.count > max(onnx, vnnlib, verdict) else {
                throw SuiteError.malformed(path: path, line: number + 2, reason: "too few fields")
            }
            verdicts[Self.key(fields[onnx], fields[vnnlib])] = fields[verdict].lowercased()
        }
    }

    /// The published verdict of an instance (`sat`, `unsat`, `unknown`), if listed.
    public func verdict(onnx: String, vnnlib: String) -> String? {
        verdicts[Self.key(onnx, vnnlib)]
    }

    /// Number of listed instances.
    public var count: Int { verdicts.count }

    private static func key(_ onnx: String, _ vnnlib: String) -> String {
        (onnx as NSString).lastPathComponent + "|" + (vnnlib as NSString).lastPathComponent
    }
}
