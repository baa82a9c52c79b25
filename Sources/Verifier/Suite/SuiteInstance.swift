import Foundation

/// One line of a VNN-COMP `instances.csv`: a network, a property and a time limit.
public struct SuiteInstance: Sendable, Equatable {
    /// The network path as written in the instances file.
    public var onnx: String
    /// The property path as written in the instances file.
    public var vnnlib: String
    /// The time limit in seconds.
    public var timeout: Double

    /// Creates an instance.
    public init(onnx: String, vnnlib: String, timeout: Double) {
        self.onnx = onnx
        self.vnnlib = vnnlib
        self.timeout = timeout
    }

    /// Reads an instances file (LF or CRLF line ends): `onnx,vnnlib,timeout` per line, no header (a header line whose
    /// timeout field is not a number is skipped), blank lines and `#` comments ignored.
    public static func load(contentsOf path: String) throws -> [SuiteInstance] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SuiteError.unreadable(path: path, reason: error.localizedDescription)
        }
        var instances: [SuiteInstance] = []
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 3 else {
                throw SuiteError.malformed(path: path, line: number + 1, reason: "expected 'onnx,vnnlib,timeout', found \(fields.count) field(s)")
            }
            guard let timeout = Double(fields[2]), timeout.isFinite, timeout > 0 else {
                if instances.isEmpty && fields[2].lowercased().contains("timeout") { continue }
                throw SuiteError.malformed(path: path, line: number + 1, reason: "timeout '\(fields[2])' is not a positive number")
            }
            instances.append(SuiteInstance(onnx: fields[0], vnnlib: fields[1], timeout: timeout))
        }
        return instances
    }
}

/// Errors of the suite runner's own files.
public enum SuiteError: Error, CustomStringConvertible {
    /// A file that could not be read.
    case unreadable(path: String, reason: String)
    /// A line that does not have the expected form.
    case malformed(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .malformed(let path, let line, let reason): return "\(path):\(line): \(reason)"
        }
    }
}
