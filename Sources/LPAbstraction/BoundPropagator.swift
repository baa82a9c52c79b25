import Foundation
import Network

/// Sound bounds on a network's ReLU pre-activations and outputs over an input box and a partial
/// phase assignment: interval arithmetic, and symbolic back-substitution (CROWN / DeepPoly style).
///
/// Symbolic bounds of a ReLU layer are computed by back-substituting the linear functions of its
/// pre-activations through every earlier node down to the input, relaxing each unstable ReLU by
/// the triangle's upper face `u(x − l)/(u − l)` and an adaptive lower line (slope 0 or 1, whichever
/// keeps the smaller area), and using the exact identity / zero for ReLUs that are stable or fixed.
/// Only neurons that interval arithmetic leaves unstable are back-substituted (the others are
/// already decided, and their exact linear pieces pass through back-substitution unchanged), and
/// symbolic bounds are intersected with interval bounds, so they are never looser.
///
/// Every bound is widened outward for floating-point rounding; see ``SoundArithmetic``.
public struct BoundPropagator: Sendable {
    /// The network bounded.
    public let network: Network
    /// Node indices of the ReLU nodes (``Network/reluNodes``).
    let reluNodes: [Int]
    /// For each node, the ReLU layers (positions in `reluNodes`) that read it.
    let consumingReLULayers: [[Int]]
    /// Rows back-substituted together; bounds the memory of the coefficient matrices.
    var chunkSize = 256
    /// The last symbolic bounds of a region with no phase fixed, shared by every copy.
    let rootMemo = RootBoundsMemo()
    /// The last optimised bounds (``optimizedRootBounds(box:iterations:deadline:)``) of a region
    /// with no phase fixed, shared by every copy.
    let optimizedRootMemo = RootBoundsMemo()
    /// Per dense node, `Σ_j |W_kj|` of each row; per convolution node, `Σ |w|` over each output
    /// channel's kernel; rounded up, by node index. Times the largest magnitude of the node's
    /// input they bound `|W|·M`, which the rounding-error slack of every back-substitution needs
    /// (``BackSubstitutionContext``).
    let absoluteRowSums: [Int: [Double]]
    /// Whether a first dense layer's bounds under an assignment are cut by the input halfspaces of
    /// the layer's fixed phases (``InputHalfspaces``).
    public var cutsFirstLayerByHalfspaces = true
    /// When the caller's time runs out. Past it, back-substitution stops and the neurons it has
    /// not reached keep their interval bounds (sound, only looser), so that a run's time limit
    /// holds even where one symbolic pass takes seconds (a residual CIFAR network); bounds
    /// finished past it are not memoised.
    public var deadline: ContinuousClock.Instant?
    /// Per dense node, its weights rounded to `Float`: the output-objective slope optimiser's
    /// search direction reads these (``optimizesInSinglePrecision``), never a bound.
    let singlePrecisionWeights: [Int: [Float]]
    /// Whether the slope and split-multiplier optimiser of an output objective
    /// (``optimizedLowerBound(outputCoefficients:box:assignment:bounds:iterations:deadline:initialSlopes:stopAbove:learningRate:learningRateDecay:optimizingSplits:initialBetas:betaLearningRate:abandoningUnreachable:knownDefaultBound:)``)
    /// runs its dense products in single precision. Those matrix-vector products read a weight
    /// matrix per step and are bound by memory, so half the bytes is about half the time; the
    /// bound returned comes from the rounded `Double` back-substitution either way.
    public var optimizesInSinglePrecision = true

    /// Creates a propagator for a network (which must pass ``Network/validate()``).
    public init(network: Network) {
        self.network = network
        self.reluNodes = network.reluNodes
        var consumers = [[Int]](repeating: [], count: network.nodes.count)
        for (layer, node) in reluNodes.enumerated() {
            consumers[network.nodes[node].inputs[0]].append(layer)
        }
        self.consumingReLULayers = consumers
        var rowSums: [Int: [Double]] = [:]
        for (k, node) in network.nodes.enumerated() {
            switch node.operation {
            case .dense(let d): rowSums[k] = Self.absoluteChunkSums(d.weights.values, chunks: d.weights.rows)
            case .convolution(let c): rowSums[k] = Self.absoluteChunkSums(c.weights, chunks: c.outChannels)
            default: break
            }
        }
        self.absoluteRowSums = rowSums
        var single: [Int: [Float]] = [:]
        for (k, node) in network.nodes.enumerated() {
            if case .dense(let d) = node.operation { single[k] = d.weights.values.map { Float($0) } }
        }
        singlePrecisionWeights = single
    }

    /// `Σ |v|` over each of `chunks` equal consecutive parts of `values`, rounded up: the
    /// relative error of a sum of `n` non-negative terms is below `n·2⁻⁵³`.
    static func absoluteChunkSums(_ values: [Double], chunks: Int) -> [Double] {
        guard chunks > 0 else { return [] }
        let n = values.count / chunks
        return (0..<chunks).map { c in
            var s = 0.0
            for e in c * n..<(c + 1) * n { s += Swift.abs(values[e]) }
            return (s * (1 + Double(n + 1) * 0x1p-52)).nextUp
        }
    }

    /// Bounds on every ReLU pre-activation and on the outputs over `box` intersected with the
    /// inputs that agree with `assignment`.
    public func bounds(box: Box, assignment: PhaseAssignment? = nil, method: BoundMethod = .symbolic) -> NetworkBounds {
        bounds(box: box, assignment: assignment, method: method, lowerSlopes: nil)
    }

    /// As ``bounds(box:assignment:method:)``, with optional lower-relaxation slopes for the
    /// unstable ReLUs (`lowerSlopes[layer][index]` in `[0, 1]`; values outside are clamped). Any
    /// slope in `[0, 1]` is sound; `nil` chooses the adaptive slope. This is the hook for
    /// optimised (alpha-CROWN) slopes.
    public func bounds(box: Box, assignment: PhaseAssignment?, method: BoundMethod,
                       lowerSlopes: [[Double]]?) -> NetworkBounds {
        bounds(box: box, assignment: assignment, method: method, lowerSlopes: lowerSlopes, known: nil)
    }

    /// As ``bounds(box:assignment:method:)``, seeded with sound bounds found another way (LP or
    /// MILP tightening, an earlier run with fewer phases fixed): every node's bounds are
    /// intersected with `seed`'s before later nodes use them, so tightening one layer tightens
    /// everything after it. `seed` must be sound for `box` and `assignment` (a subset of them is
    /// fine: bounds for a larger region or fewer fixed phases hold here too) and carry per-node
    /// bounds (``NetworkBounds/nodes``, as every ``NetworkBounds`` from this type does).
    public func bounds(box: Box, assignment: PhaseAssignment?, method: BoundMethod, seed: NetworkBounds) -> NetworkBounds {
        precondition(seed.nodes.count == network.nodes.count, "seed bounds need one entry per node")
        return bounds(box: box, assignment: assignment, method: method, lowerSlopes: nil, known: seed.nodes)
    }

    /// Symbolic bounds of a sub-region of one whose bounds are known: `box` under `assignment`,
    /// where `parent` are the bounds of `box` under `parentAssignment`, a subset of `assignment`'s
    /// phases (a search node's ancestor). `seed`, when given, is intersected in as in
    /// ``bounds(box:assignment:method:seed:)``.
    ///
    /// Back-substitution never uses a constraint on a later node, so the symbolic bounds of every
    /// node up to the first pre-activation whose layer gains a phase are the parent's: only the
    /// nodes after it are back-substituted again (and every node is intersected with the parent's
    /// bounds, sound because the region shrank). A search that branches deep in the network then
    /// recomputes a few layers instead of all of them: oval21 cifar_deep_kw img5168, one thread,
    /// 60 s, 365–447 → 723 search nodes; mnistfc 256x4 prop_3_0.03 (with the shared pass of
    /// ``lowerBounds(outputCoefficients:box:assignment:bounds:slopeSets:betas:)``), 1,418 → 1,929. Falls back to a
    /// full computation when `parentAssignment` fixes a phase that `assignment` does not.
    public func bounds(box: Box, assignment: PhaseAssignment, seed: NetworkBounds?,
                       parent: NetworkBounds, parentAssignment: PhaseAssignment) -> NetworkBounds {
        guard parent.nodes.count == network.nodes.count, !parent.isInfeasible,
              let firstChanged = firstChangedPreActivation(of: assignment, since: parentAssignment) else {
            if let seed { return bounds(box: box, assignment: assignment, method: .symbolic, seed: seed) }
            return bounds(box: box, assignment: assignment, method: .symbolic)
        }
        var known = parent.nodes
        if let seed {
            precondition(seed.nodes.count == network.nodes.count, "seed bounds need one entry per node")
            for k in known.indices where seed.nodes[k].lower.count == known[k].lower.count {
                for i in known[k].lower.indices {
                    known[k].lower[i] = Swift.max(known[k].lower[i], seed.nodes[k].lower[i])
                    known[k].upper[i] = Swift.min(known[k].upper[i], seed.nodes[k].upper[i])
                }
            }
        }
        return computeBounds(box: box, assignment: assignment, method: .symbolic, lowerSlopes: nil, known: known,
                             reusedThrough: firstChanged, cutsSince: parentAssignment)
    }

    /// The first pre-activation node of a ReLU layer where `assignment` fixes a phase that
    /// `parent` leaves free (`Int.max` when none does); `nil` when `parent` fixes a phase that
    /// `assignment` does not share, so that `parent` does not describe a larger region.
    func firstChangedPreActivation(of assignment: PhaseAssignment, since parent: PhaseAssignment) -> Int? {
        var first = Int.max
        for (layer, relu) in reluNodes.enumerated() {
            let mine = assignment.phases[layer], theirs = parent.phases[layer]
            guard mine.count == theirs.count else { return nil }
            for i in mine.indices where mine[i] != theirs[i] {
                if theirs[i] != nil { return nil }
                first = Swift.min(first, network.nodes[relu].inputs[0])
            }
        }
        return first
    }

    /// The bound computation behind the public entry points. `known`, when given, holds sound
    /// per-node bounds for the same box and assignment (e.g. tightened by LP); every node's bounds
    /// are intersected with them before they are used further.
    func bounds(box: Box, assignment: PhaseAssignment?, method: BoundMethod,
                lowerSlopes: [[Double]]?, known: [LayerBounds]?) -> NetworkBounds {
        // The verifier bounds the same root region once per conjunction of a property (nine for a
        // CIFAR robustness property) and again at each search's root: seconds each on a residual
        // CIFAR network, for identical bounds.
        let memoisable = method == .symbolic && lowerSlopes == nil && known == nil
            && (assignment?.phases.allSatisfy { $0.allSatisfy { $0 == nil } } ?? true)
        if memoisable, let cached = rootMemo.bounds(for: box) { return cached }
        let result = computeBounds(box: box, assignment: assignment, method: method, lowerSlopes: lowerSlopes, known: known)
        if memoisable, !isPastDeadline { rootMemo.store(result, for: box) }
        return result
    }

    /// ``bounds(box:assignment:method:lowerSlopes:known:)`` without the memo. Nodes up to
    /// `reusedThrough` are neither back-substituted nor bounded by intervals again: `known`
    /// already holds their bounds (see ``bounds(box:assignment:seed:parent:parentAssignment:)``).
    /// `cutsSince`, when given, is an assignment whose phases' input halfspaces `known` already
    /// reflects (``InputHalfspaces``): only the phases fixed since cut the first layer again.
    private func computeBounds(box: Box, assignment: PhaseAssignment?, method: BoundMethod,
                               lowerSlopes: [[Double]]?, known: [LayerBounds]?,
                               reusedThrough: Int = -1, cutsSince: PhaseAssignment? = nil) -> NetworkBounds {
        var known = known
        // Without bounds to start from, the symbolic pass first runs the plain interval pass:
        // tighter inputs can make a rounded centre-radius interval an ulp looser, and intersecting
        // with it keeps symbolic bounds never looser than interval ones. Seeded bounds (an
        // ancestor's, the root's optimised ones) are symbolic already and tighter by far than
        // that ulp; the pass would compute every interval twice per search node (on oval21's
        // convolutions, 12 % of a search).
        let cutsHere = method == .interval || known != nil
        if method == .symbolic && known == nil {
            let interval = computeBounds(box: box, assignment: assignment, method: .interval, lowerSlopes: nil,
                                         known: known, reusedThrough: reusedThrough, cutsSince: cutsSince)
            if interval.isInfeasible { return interval }
            known = interval.nodes
        }
        let nodes = network.nodes
        precondition(box.dimension == network.inputSize, "box has \(box.dimension) dimensions, network has \(network.inputSize) inputs")
        var context = BackSubstitutionContext(network: network, reluNodes: reluNodes, absoluteRowSums: absoluteRowSums)
        var preActivation = [LayerBounds?](repeating: nil, count: reluNodes.count)

        for (k, node) in nodes.enumerated() {
            var b: LayerBounds
            switch node.operation {
            case _ where k > 0 && k <= reusedThrough && known != nil:
                // Sound for the region already (see the parameter's documentation).
                b = known![k]
            case .input:
                b = LayerBounds(lower: box.lower, upper: box.upper)
            case .dense(let d):
                b = IntervalArithmetic.dense(d, input: context.nodeBounds[node.inputs[0]])
            case .convolution(let c):
                b = IntervalArithmetic.convolution(c, input: context.nodeBounds[node.inputs[0]])
            case .elementwiseAffine(let scale, let shift):
                b = IntervalArithmetic.elementwise(scale: scale, shift: shift, input: context.nodeBounds[node.inputs[0]])
            case .add:
                b = IntervalArithmetic.add(context.nodeBounds[node.inputs[0]], context.nodeBounds[node.inputs[1]])
            case .relu:
                let x = context.nodeBounds[node.inputs[0]]
                b = LayerBounds(lower: x.lower.map { Swift.max($0, 0) }, upper: x.upper.map { Swift.max($0, 0) })
            }

            if let known, k > 0, known[k].lower.count == b.lower.count {
                for i in b.lower.indices {
                    b.lower[i] = Swift.max(b.lower[i], known[k].lower[i])
                    b.upper[i] = Swift.min(b.upper[i], known[k].upper[i])
                }
            }
            let layers = consumingReLULayers[k]
            if cutsHere, cutsFirstLayerByHalfspaces, k >= reusedThrough, let assignment,
               case .dense(let d) = node.operation, node.inputs[0] == 0 {
                // The symbolic pass starts from these interval bounds, so the cut reaches it too.
                for layer in layers {
                    InputHalfspaces.tighten(&b, layer: d, box: box, phases: assignment.phases[layer],
                                            since: cutsSince?.phases[layer])
                }
            }
            if !layers.isEmpty {
                // An affine node reading the input directly gains nothing from back-substitution:
                // it would concretise the same linear function at the same box.
                if method == .symbolic && k != 0 && k > reusedThrough && !readsInputAffinely(node) {
                    let unstable = b.lower.indices.filter { b.lower[$0] < 0 && b.upper[$0] > 0 }
                    refine(&b, node: k, neurons: unstable, stopAtDecision: true, context: &context)
                }
                for layer in layers {
                    if let assignment {
                        for (i, phase) in assignment.phases[layer].enumerated() {
                            switch phase {
                            case .active?: b.lower[i] = Swift.max(b.lower[i], 0)
                            case .inactive?: b.upper[i] = Swift.min(b.upper[i], 0)
                            case nil: break
                            }
                        }
                    }
                    if b.lower.indices.contains(where: { b.lower[$0] > b.upper[$0] }) {
                        return Self.infeasible(network: network, known: context.nodeBounds + [b],
                                               preActivation: preActivation, layer: layer)
                    }
                }
                for layer in layers { preActivation[layer] = b }
            }
            if case .relu = node.operation {
                let layer = reluNodes.firstIndex(of: k)!
                context.setRelaxation(forReLUNode: k, preActivation: context.nodeBounds[node.inputs[0]],
                                      lowerSlopes: lowerSlopes?[layer])
            }
            context.append(b)
        }

        var output = context.nodeBounds[network.output]
        if method == .symbolic && network.output != 0 && network.output > reusedThrough {
            refine(&output, node: network.output, neurons: Array(output.lower.indices), stopAtDecision: false,
                   context: &context)
            context.nodeBounds[network.output] = output
        }
        return NetworkBounds(preActivation: preActivation.map { $0! }, output: output,
                             isInfeasible: false, nodes: context.nodeBounds)
    }

    /// A sound lower bound of `Σ c_j y_j` over the box ∧ assignment, by back-substitution through
    /// the network using `bounds` (from ``bounds(box:assignment:method:)`` with the same box and
    /// assignment, or a tighter sound version) for the ReLU relaxations. Returns `+∞` when the
    /// bounds are infeasible (the region is empty).
    public func lowerBound(outputCoefficients c: [Double], box: Box, assignment: PhaseAssignment?,
                           bounds: NetworkBounds) -> Double {
        lowerBound(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds, lowerSlopes: nil)
    }

    /// As ``lowerBound(outputCoefficients:box:assignment:bounds:)`` with optional lower slopes
    /// (see ``bounds(box:assignment:method:lowerSlopes:)``).
    public func lowerBound(outputCoefficients c: [Double], box: Box, assignment: PhaseAssignment?,
                           bounds: NetworkBounds, lowerSlopes: [[Double]]?) -> Double {
        lowerBounds(outputCoefficients: c, box: box, assignment: assignment, bounds: bounds, slopeSets: [lowerSlopes])[0]
    }

    /// ``lowerBound(outputCoefficients:box:assignment:bounds:lowerSlopes:)`` for several sets of
    /// lower slopes at once (`nil` for the adaptive ones): one back-substitution context and one
    /// pass with a row per set, instead of a context and a pass each (a search node bounds each
    /// constraint with its adaptive slopes and with the root's optimised ones).
    ///
    /// `betas`, when given, are beta-CROWN's multipliers of the assignment's phase constraints
    /// (`betas[layer][index] ≥ 0`, for every row): the pre-activation `x_i` of a neuron fixed
    /// active enters as `−β_i·x_i` (`x_i ≥ 0` there), one fixed inactive as `+β_i·x_i`; entries of
    /// neurons the assignment leaves free, and negative or non-finite ones, are ignored.
    public func lowerBounds(outputCoefficients c: [Double], box: Box, assignment: PhaseAssignment?,
                            bounds: NetworkBounds, slopeSets: [[[Double]]?], betas: [[Double]]? = nil) -> [Double] {
        lowerBounds(objectives: slopeSets.map { (c, $0) }, box: box, assignment: assignment, bounds: bounds, betas: betas)
    }

    /// Sound lower bounds of several output functionals `c·y`, each with its own lower slopes
    /// (`nil` for the adaptive ones), in one back-substitution pass with a row per objective: a
    /// search node of a joint problem bounds every open alternative, each with its adaptive slopes
    /// and its root-optimised ones, in one set of matrix-matrix products instead of a
    /// matrix-vector product per row.
    public func lowerBounds(objectives: [(coefficients: [Double], slopes: [[Double]]?)], box: Box,
                            assignment: PhaseAssignment?, bounds: NetworkBounds,
                            betas: [[Double]]? = nil) -> [Double] {
        for (c, _) in objectives {
            precondition(c.count == network.outputSize, "expected \(network.outputSize) output coefficients, got \(c.count)")
        }
        let R = objectives.count
        if bounds.isInfeasible || R == 0 { return [Double](repeating: .infinity, count: R) }
        // Re-apply the assignment, so a caller passing looser bounds still gets its phases used.
        guard let nodeBounds = regionBounds(box: box, assignment: assignment, bounds: bounds) else {
            return [Double](repeating: .infinity, count: R)
        }
        let multipliers = betas.flatMap { splitMultipliers(betas: $0, assignment: assignment) }
        var symbolic: [Double]
        if R == 1 {
            var context = backSubstitutionContext(nodeBounds: nodeBounds, lowerSlopes: objectives[0].slopes)
            symbolic = context.lowerBounds(start: network.output, rows: objectives[0].coefficients, rowCount: 1,
                                           splitMultipliers: multipliers)
        } else {
            // Per-row slopes replace the adaptive ones; NaN keeps a row's adaptive slope.
            var rowSlopes: [Int: [Double]] = [:]
            for (layer, relu) in reluNodes.enumerated() {
                let size = network.nodes[relu].size
                var slopes = [Double](repeating: .nan, count: R * size)
                for (r, objective) in objectives.enumerated() {
                    guard let layerSlopes = objective.slopes?[layer], layerSlopes.count == size else { continue }
                    for e in 0..<size { slopes[r * size + e] = layerSlopes[e] }
                }
                rowSlopes[relu] = slopes
            }
            var context = backSubstitutionContext(nodeBounds: nodeBounds)
            symbolic = context.lowerBounds(start: network.output, rows: Array(objectives.map(\.coefficients).joined()),
                                           rowCount: R, rowLowerSlopes: rowSlopes, splitMultipliers: multipliers)
        }
        // The interval bound of the same functional, in case it is tighter.
        let y = nodeBounds[network.output]
        return zip(objectives, symbolic).map { objective, bound in
            let c = objective.coefficients
            var value = 0.0, absolute = 0.0
            for j in c.indices where c[j] != 0 {
                let t = c[j] >= 0 ? c[j] * y.lower[j] : c[j] * y.upper[j]
                value += t
                absolute += Swift.abs(t)
            }
            let interval = SoundArithmetic.lower(value, error: SoundArithmetic.dotError(absoluteSum: absolute, terms: c.count))
            return Swift.max(bound, interval)
        }
    }

    /// The signed multipliers of ``BackSubstitutionContext/lowerBounds(start:rows:rowCount:stopPairsAtDecision:rowLowerSlopes:splitMultipliers:observeReLU:)``
    /// for beta-CROWN multipliers `betas` (per ReLU layer and neuron) of `assignment`'s phases:
    /// `−β` for an active phase, `+β` for an inactive one, keyed by ReLU node. `nil` when no
    /// multiplier is positive.
    func splitMultipliers(betas: [[Double]], assignment: PhaseAssignment?) -> [Int: [Double]]? {
        guard let assignment else { return nil }
        var result: [Int: [Double]] = [:]
        for (layer, relu) in reluNodes.enumerated() where layer < betas.count {
            let phases = assignment.phases[layer]
            var signed = [Double](repeating: 0, count: phases.count)
            var any = false
            for (i, phase) in phases.enumerated() where i < betas[layer].count {
                let beta = betas[layer][i]
                guard let phase, beta > 0, beta.isFinite else { continue }
                signed[i] = phase == .active ? -beta : beta
                any = true
            }
            if any { result[relu] = signed }
        }
        return result.isEmpty ? nil : result
    }

    /// The back-substitution of `Σ c_j y_j` over `box` ∧ `assignment` with `bounds`, kept for the
    /// branching heuristics (``BranchingPass``); `nil` when the region is empty.
    public func branchingPass(outputCoefficients c: [Double], box: Box, assignment: PhaseAssignment?,
                              bounds: NetworkBounds) -> BranchingPass? {
        precondition(c.count == network.outputSize, "expected \(network.outputSize) output coefficients, got \(c.count)")
        guard !bounds.isInfeasible, let nodeBounds = regionBounds(box: box, assignment: assignment, bounds: bounds) else {
            return nil
        }
        return BranchingPass(network: network, reluNodes: reluNodes, nodeBounds: nodeBounds,
                             context: backSubstitutionContext(nodeBounds: nodeBounds), objective: c)
    }

    /// A back-substitution context over the bounds of nodes `0..<end` (all of `nodeBounds` when
    /// `nil`), every ReLU relaxed from its input's bounds with `lowerSlopes[layer]` (adaptive when
    /// `nil`).
    func backSubstitutionContext(nodeBounds: [LayerBounds], upTo end: Int? = nil,
                                 lowerSlopes: [[Double]]? = nil) -> BackSubstitutionContext {
        var context = BackSubstitutionContext(network: network, reluNodes: reluNodes, absoluteRowSums: absoluteRowSums)
        for k in 0..<(end ?? nodeBounds.count) {
            if case .relu = network.nodes[k].operation {
                let layer = reluNodes.firstIndex(of: k)!
                context.setRelaxation(forReLUNode: k, preActivation: nodeBounds[network.nodes[k].inputs[0]],
                                      lowerSlopes: lowerSlopes?[layer])
            }
            context.append(nodeBounds[k])
        }
        return context
    }

    /// The per-node bounds that back-substitution relaxes: `bounds.nodes` with the box as node 0
    /// and the assignment re-applied to the ReLU inputs. `nil` when the assignment empties a
    /// neuron's range.
    func regionBounds(box: Box, assignment: PhaseAssignment?, bounds: NetworkBounds) -> [LayerBounds]? {
        precondition(bounds.nodes.count == network.nodes.count,
                     "needs NetworkBounds from BoundPropagator.bounds (per-node bounds missing)")
        var nodeBounds = bounds.nodes
        nodeBounds[0] = LayerBounds(lower: box.lower, upper: box.upper)
        guard let assignment else { return nodeBounds }
        for (layer, relu) in reluNodes.enumerated() {
            let p = network.nodes[relu].inputs[0]
            for (i, phase) in assignment.phases[layer].enumerated() {
                switch phase {
                case .active?: nodeBounds[p].lower[i] = Swift.max(nodeBounds[p].lower[i], 0)
                case .inactive?: nodeBounds[p].upper[i] = Swift.min(nodeBounds[p].upper[i], 0)
                case nil: break
                }
                if nodeBounds[p].lower[i] > nodeBounds[p].upper[i] { return nil }
            }
        }
        return nodeBounds
    }

    /// Tightens `b` (bounds of node `node`) for the given neurons by back-substitution, in chunks
    /// of rows so the coefficient matrices stay small. With `stopAtDecision` (pre-activations) a
    /// neuron whose sign is decided part-way stops there (see
    /// ``BackSubstitutionContext/unitPairLowerBounds(start:neurons:stopPairsAtDecision:rowLowerSlopes:)``).
    private func refine(_ b: inout LayerBounds, node: Int, neurons: [Int], stopAtDecision: Bool,
                        context: inout BackSubstitutionContext) {
        guard !neurons.isEmpty else { return }
        let perChunk = Swift.max(1, chunkSize / 2)
        var start = 0
        while start < neurons.count, !isPastDeadline {
            let chunk = neurons[start..<Swift.min(start + perChunk, neurons.count)]
            let lowers = context.unitPairLowerBounds(start: node, neurons: Array(chunk), stopPairsAtDecision: stopAtDecision)
            for (q, i) in chunk.enumerated() {
                b.lower[i] = Swift.max(b.lower[i], lowers[2 * q])
                b.upper[i] = Swift.min(b.upper[i], -lowers[2 * q + 1])
            }
            start += perChunk
        }
    }

    /// Whether ``deadline`` has passed.
    var isPastDeadline: Bool {
        deadline.map { ContinuousClock.now >= $0 } ?? false
    }

    /// The bounds returned when the assignment contradicts the bounds of ReLU layer `layer`.
    private static func infeasible(network: Network, known: [LayerBounds], preActivation: [LayerBounds?], layer: Int) -> NetworkBounds {
        func empty(_ n: Int) -> LayerBounds {
            LayerBounds(lower: [Double](repeating: .infinity, count: n), upper: [Double](repeating: -.infinity, count: n))
        }
        var nodes = known
        for k in nodes.count..<network.nodes.count { nodes.append(empty(network.nodes[k].size)) }
        let relus = network.reluNodes
        let pre = preActivation.enumerated().map { l, b in
            b ?? empty(network.nodes[relus[l]].size)
        }
        return NetworkBounds(preActivation: pre, output: empty(network.outputSize), isInfeasible: true,
                             nodes: nodes, infeasibleLayer: layer)
    }
}

/// One remembered result of ``BoundPropagator`` for a region with no phase fixed (see its use in
/// `bounds`). A reference shared by the propagator's copies, so the verifier's workers share it.
final class RootBoundsMemo: @unchecked Sendable {
    private let lock = NSLock()
    private var box: Box?
    private var result: NetworkBounds?

    /// The remembered bounds when `box` is exactly the remembered region.
    func bounds(for box: Box) -> NetworkBounds? {
        lock.lock()
        defer { lock.unlock() }
        guard let remembered = self.box, remembered.lower == box.lower, remembered.upper == box.upper else { return nil }
        return result
    }

    /// Remembers `bounds` as the bounds of `box` (replacing the previous region).
    func store(_ bounds: NetworkBounds, for box: Box) {
        lock.lock()
        defer { lock.unlock() }
        self.box = box
        result = bounds
    }
}
