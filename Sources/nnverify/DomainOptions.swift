import ArgumentParser
import LPAbstraction
import Network
import VNNLib

/// The input domain of `stability` and `compress`: a uniform box or a VNNLIB property's region.
struct DomainOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Uniform input box, e.g. 0,1.", valueName: "LO,HI"))
    var box: String?

    @Option(help: "Take the input box from a VNNLIB property (it must have exactly one box).")
    var vnnlib: String?

    func validate() throws {
        guard (box == nil) != (vnnlib == nil) else { throw ValidationError("give exactly one of --box LO,HI and --vnnlib PROP.vnnlib") }
    }

    /// The box for `network`.
    func domain(for network: Network) throws -> Box {
        if let box {
            let parts = box.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite, lo <= hi else {
                throw ValidationError("--box must be LO,HI with finite numbers and LO ≤ HI, got '\(box)'")
            }
            return Box(lower: [Double](repeating: lo, count: network.inputSize), upper: [Double](repeating: hi, count: network.inputSize))
        }
        let path = vnnlib ?? ""
        let spec = try VNNLibParser.parse(contentsOf: path)
        guard spec.inputCount == network.inputSize else {
            throw ValidationError("\(path) declares \(spec.inputCount) inputs; the network has \(network.inputSize)")
        }
        guard spec.cases.count == 1, let only = spec.cases.first else {
            throw ValidationError("\(path) has \(spec.cases.count) input boxes; the domain must be a single box")
        }
        return Box(lower: only.lower, upper: only.upper)
    }
}
