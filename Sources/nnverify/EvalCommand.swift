import ArgumentParser
import Foundation
import Network

/// `nnverify eval`: run the network on inputs read from stdin.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a network on input numbers read from stdin.",
        discussion: """
            Reads whitespace-separated numbers (row-major) from stdin; when stdin holds several \
            inputs' worth, each is evaluated in turn. Prints one output value per line at full \
            Double precision (a blank line between inputs).
            """
    )

    @Argument(help: "The network (ONNX).")
    var network: String

    @Flag(help: "Evaluate in Float32 (as ONNX runtimes do) instead of Double.")
    var float32 = false

    func run() throws {
        try Diagnostics.reportingErrors {
            let net = try Network.load(contentsOf: network)
            let data = FileHandle.standardInput.readDataToEndOfFile()
            let text = String(decoding: data, as: UTF8.self)
            var numbers: [Double] = []
            for (position, token) in text.split(whereSeparator: { $0.isWhitespace }).enumerated() {
                guard let value = Double(token) else {
                    throw ValidationError("stdin: token \(position + 1) '\(token)' is not a number")
                }
                numbers.append(value)
            }
            let n = net.inputSize
            guard !numbers.isEmpty, numbers.count % n == 0 else {
                throw ValidationError("stdin: read \(numbers.count) numbers; \(network) needs a multiple of \(n) (its input size)")
            }
            var out = ""
            for start in stride(from: 0, to: numbers.count, by: n) {
                if start > 0 { out += "\n" }
                let x = Array(numbers[start..<(start + n)])
                let y: [Double] = float32 ? net.evaluate(x.map { Float($0) }).map(Double.init) : net.evaluate(x)
                for v in y { out += "\(v)\n" }
            }
            print(out, terminator: "")
        }
    }
}
