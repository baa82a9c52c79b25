import ArgumentParser

/// Subcommands whose engine is not built yet: they say so plainly and exit non-zero rather than
/// pretending to work.
protocol PlannedCommand: ParsableCommand {
    static var plannedIn: String { get }
}

extension PlannedCommand {
    func run() throws {
        Diagnostics.note("nnverify \(Self.configuration.commandName ?? ""): not built yet (\(Self.plannedIn)).")
        throw ExitCode(2)
    }
}

/// `nnverify compress` (issue: exact compression).
struct CompressCommand: PlannedCommand {
    static let configuration = CommandConfiguration(commandName: "compress", abstract: "Exact compression over an input domain (not built yet).")
    static let plannedIn = "exact compression is planned; see ARCHITECTURE.md"
    @Argument var arguments: [String] = []
}

/// `nnverify stability` (issue: stable-neuron detector CLI).
struct StabilityCommand: PlannedCommand {
    static let configuration = CommandConfiguration(commandName: "stability", abstract: "Classify every ReLU as stable or unstable over a domain (not built yet).")
    static let plannedIn = "the stable-neuron detector's command line is planned; see ARCHITECTURE.md"
    @Argument var arguments: [String] = []
}
