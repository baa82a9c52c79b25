import ArgumentParser

/// The `nnverify` command: verify, compress and inspect ReLU networks.
@main
struct NNVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nnverify",
        abstract: "Verify and exactly compress ReLU neural networks (ONNX networks, VNNLIB properties).",
        discussion: """
            Results go to stdout; diagnostics go to stderr. Exit status is 0 for every verdict \
            and non-zero only for errors.
            """,
        version: "0.1.0",
        subcommands: [
            InspectCommand.self,
            EvalCommand.self,
            VerifyCommand.self,
            SuiteCommand.self,
            CompressCommand.self,
            StabilityCommand.self,
        ]
    )

    /// The allocator's settings first (``Allocator``), then ArgumentParser's parse and run.
    static func main() {
        Allocator.keepFreedMemory()
        main(nil)
    }
}
