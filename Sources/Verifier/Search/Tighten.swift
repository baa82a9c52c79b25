import LPAbstraction
import Network

/// What LP tightening before the search found.
struct RootTightening {
    /// Per-node bounds over the box ∧ conjunction, tighter than the symbolic ones; nil when the
    /// LP changed nothing.
    var bounds: NetworkBounds?
    /// An LP proved the box ∧ conjunction empty: the problem is refuted.
    var refuted = false
}

extension Theory {
    /// VeriStable's stabilization done once, up front: LP-minimise and maximise the
    /// pre-activation of every neuron the symbolic bounds leave unstable, layer by layer (each
    /// layer's tightened bounds sharpen the relaxation of the next before it is tightened), with
    /// the conjunction's constraints in the LP, until `deadline`.
    ///
    /// The bounds hold wherever the conjunction can, which is all the search asks about; the
    /// search refines them at every node, so one tightening pays off across the whole tree (the
    /// triangle relaxations of deep layers are where symbolic bounds are loosest).
    func tightenRoot(deadline: ContinuousClock.Instant, lpCalls: inout Int) -> RootTightening {
        // From the best bounds known (the optimised root bounds, when computed): the refined
        // bounds replace them as every node's seed, so they must not start looser.
        var bounds = self.bounds(box: problem.box, assignment: nil)
        if bounds.isInfeasible { return RootTightening(refuted: true) }
        var changedAny = false
        for layer in network.reluNodes.indices {
            if ContinuousClock.now >= deadline { break }
            guard let lp = relaxation(box: problem.box, bounds: bounds, assignment: nil) else { break }
            var b = bounds.preActivation[layer]
            // Nearly stable neurons first: if the time runs out, the rest gain the least.
            let unstable = b.lower.indices.filter { b.lower[$0] < 0 && b.upper[$0] > 0 }
                .sorted { b.closenessToStable($0) < b.closenessToStable($1) }
            var changed = false
            var outOfTime = false
            neurons: for i in unstable {
                for maximize in [false, true] {
                    guard b.lower[i] < 0 && b.upper[i] > 0 else { break }
                    lpCalls += 1
                    switch lp.minimize(preActivationOf: NeuronID(layer: layer, index: i), maximize: maximize,
                                       deadline: deadline) {
                    case .optimal(let value, _):
                        if maximize, value < b.upper[i] { b.upper[i] = value; changed = true }
                        if !maximize, value > b.lower[i] { b.lower[i] = value; changed = true }
                    case .infeasible:
                        return RootTightening(refuted: true)
                    case .timeout:
                        outOfTime = true
                        break neurons
                    case .failed:
                        continue
                    }
                }
            }
            if changed {
                changedAny = true
                var seed = bounds
                seed.nodes[network.nodes[network.reluNodes[layer]].inputs[0]] = b
                bounds = propagator.bounds(box: problem.box, assignment: nil, method: .symbolic, seed: seed)
                if bounds.isInfeasible { return RootTightening(refuted: true) }
            }
            if outOfTime { break }
        }
        return RootTightening(bounds: changedAny ? bounds : nil)
    }
}
