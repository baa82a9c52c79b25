/// Every tunable of the search in one table, with its default and why (CaDiCaL's `options.h`).
///
/// Passed by value to every worker: nothing in the search reads global settings.
struct SearchOptions: Sendable {
    // MARK: Falsification
    /// Share of the time limit the up-front falsifier (random + PGD attack) may use.
    var falsifyShare = 0.02
    /// Upper bound on the up-front falsifier's time, seconds: sat instances are found in the first
    /// second or two; the rest of the time is better spent searching.
    var falsifyMaxSeconds = 2.0
    /// Lower bound on it, seconds (never more than a quarter of the limit): 2 % of a 30 s limit is
    /// 0.6 s, which a loaded machine can spend before the attack gets going (oval21
    /// cifar_base_kw-img1697: sat in 0.22 s alone, missed at a 30 s limit under load).
    var falsifyMinSeconds = 1.0

    /// The up-front falsifier's time for a run limited to `timeout` seconds (0 when switched off).
    func falsifyBudget(timeout: Double) -> Double {
        guard falsifyShare > 0 else { return 0 }
        let share = min(falsifyMaxSeconds, timeout * falsifyShare)
        return max(share, min(falsifyMinSeconds, timeout / 4))
    }
    /// Random points tried in every input-splitting box besides its centre (`InputSplitting`).
    var samplesPerBox = 8
    /// Input boxes down to this depth also get a short gradient attack from their centre.
    var attackDepth = 5
    /// Seed of the attacks (from ``VerificationOptions/seed``).
    var seed: UInt64 = 0
    /// Where workers count their nodes and conflicts for progress lines (from
    /// ``VerificationOptions/progress``). Not a tunable: nothing in the search reads it back.
    var progress: VerificationProgress?

    // MARK: Input splitting
    /// Input splitting is used when the network has at most this many inputs (ACAS Xu has 5):
    /// halving a box halves the width of every bound, and few dimensions keep the tree shallow.
    var inputSplitMaxDimension = 10
    /// Choose the split dimension by trying every dimension and keeping the one whose worse child
    /// has the best bound (2·d bound calls per split) for d ≤ this; above, by smear (one gradient).
    /// Off by default: on ACAS Xu smear needs about twice the nodes at a fifth of the cost.
    var bestBoundSplitMaxDimension = 0
    /// Hand a sub-box to the ReLU search (bounds, LP with the whole conjunction, phase decisions)
    /// when at most this many ReLUs are unstable there: a few phase decisions settle it exactly,
    /// which input splitting can only approach.
    var inputSplitReLUSearchMaxUnstable = 2
    /// Deeper than `inputSplitDeepDepth` splits, hand boxes over with up to this many unstable
    /// ReLUs. Near-tight properties need it: on ACAS Xu 3_3 and 4_2 prop_2 the best point is only
    /// 1e-3 from a violation, and input splitting alone refuted 9 % of the box in 30 s. Handing over
    /// at 30 unstable everywhere solves both in about a minute but slows 1_1 prop_5 from 8 s to
    /// 21 s; from depth 10 on it is 16 s (measured together on a loaded 2-core VM; at 20 or 50
    /// unstable, or from depth 20, prop_2 is slower).
    var inputSplitDeepReLUSearchMaxUnstable = 30
    var inputSplitDeepDepth = 10
    /// Below this relative width a box is not split again (floating point stops helping); the
    /// ReLU search decides it instead.
    var minimumRelativeWidth = 1e-7

    // MARK: ReLU search
    /// Run the LP at a search node when the bounds alone are inconclusive.
    var lpAtNodes = true
    /// An inner node's LP may take `slowLPRatio` bound computations, and at least `slowLPSeconds`;
    /// one that needs more switches the worker to LPs at leaves only (`Check.swift`). mnistfc: an
    /// LP costs 1–8 bound computations (256x2 to 256x6), worth it; cifar10_resnet resnet_2b: ~27.
    var slowLPSeconds = 1.0
    var slowLPRatio = 10.0
    /// An earlier problem of the same run (same network and box, another constraint) found the
    /// LP too slow for inner nodes: the later ones skip the LP at inner nodes, root tightening
    /// and stabilization from the start. cifar10_resnet resnet_2b prop_36 (three open problems,
    /// one thread): 15 of its 29 s were inner LPs run to their budget and abandoned, 5 s each.
    var lpsKnownTooSlow = false
    /// Verify an LP certificate's small conflict set by re-checking the sub-assignment before
    /// learning it (the LP's relaxation may depend on bounds derived from the whole assignment).
    var verifyCertificates = true
    /// Fresh theory checks a conflict may spend shrinking its decision set (each costs a bound
    /// computation and possibly an LP); smaller clauses prune more and let analysis backjump.
    /// Off by default: on mnistfc the re-check LPs cost more time than the smaller clauses save
    /// (256x2 prop_5_0.03: unsat in 45 s with none, timeout at 60 s with 3; loaded 2-core VM).
    var minimizeChecks = 0
    /// Neurons (best by score) whose children's bounds filtered smart branching compares
    /// (`Decide.swift`); 1 branches on the score alone. mnistfc 256x4 prop_0_0.03, one thread:
    /// unsat in 81.5 s with 1, 21.5 s with 4, 14.6 s with 8 (16 needed fewer nodes than 8 but more
    /// time, before the child bounds shared one back-substitution context).
    var strongBranchingCandidates = 8
    /// Branching scores are divided by this per ReLU layer past the first layer with an unstable
    /// neuron (1 switches it off). On deep fully-connected networks over a high-dimensional box the
    /// bounds of late layers are loose mostly because of the early layers' unstable neurons, so
    /// late neurons score high (BaBSR's intercept grows with `−l·u/(u−l)`) and filtered smart
    /// branching, which bounds a child with the node's intermediate bounds, cannot see that an
    /// early split tightens every later layer when the child recomputes them. mnistfc 256x6
    /// prop_5_0.03 branched only in its last hidden layer without it. One thread, 100 s, with 4 /
    /// without: mnistfc 256x4 prop_0_0.03 8.7 / 14.3 s, prop_13_0.03 6.2 / 10.9 s, prop_5_0.03
    /// 13.7 / 13.0 s, 256x2 prop_3_0.03 7.4 / 6.7 s (2 and 16 do worse on prop_0 and prop_5);
    /// mnist_gdvb hard-net-177 prop_8_0.05 unsat in 117 s / a timeout at 120 s. Off (1) for
    /// networks with convolutions, where an early neuron reaches only a patch (oval21
    /// cifar_base_kw img6638 unsat in 22 s without, a timeout at 100 s with 4), and in
    /// input-splitting boxes, whose bounds are tight (ACAS Xu 3_3 and 4_2 prop_2: unsat in 52 and
    /// 41 s without, timeouts with 4).
    var branchingDepthDecay = 4.0
    /// Luby restart unit, in conflicts, of a ReLU search over a problem's whole box. Each restart
    /// re-descends from the root and may run a stabilization round; such a search is a long
    /// branch and bound whose restarts mostly repeat work. 512 instead of 64 (one thread):
    /// mnistfc 256x2 prop_3_0.03 unsat in 7.8 → 5.9 s, oval21 cifar_base_kw img6638 49.7 → 39.6 s
    /// with as many nodes.
    var restartBase = 512
    /// Luby restart unit of the ReLU searches inside input-splitting boxes (`InputSplitting`):
    /// these need frequent restarts. With 512, ACAS Xu 1_1 prop_6 (two threads) went from unsat
    /// in 37.6 s to a timeout at 116 s (20,688 instead of 8,722 conflicts in its deep boxes), and
    /// so did 4_5 prop_10.
    var inputBoxRestartBase = 64
    /// Activity bump of the variables of a learned clause, and its decay (VSIDS-like).
    var activityBump = 1.0
    var activityDecay = 0.95

    /// Optimised-slope (alpha-CROWN) steps for the root bounds of each problem (`Check.swift`).
    var rootSlopeIterations = 50
    /// Share of the time left that one problem's root slope optimisation may use.
    var rootSlopeShare = 0.02
    /// Optimised-slope steps per layer for the root's intermediate bounds
    /// (`BoundPropagator.optimizedRootBounds`); 0 switches them off. They are computed once per
    /// input box and seed every conjunction's root and every search node, so they may take
    /// `rootIntermediateSlopeBudget` times one problem's root slope time. mnistfc, best root
    /// margin before → after (20 steps): 256x4 prop_0_0.03 −1.19 → −0.55 (218 → 164 unstable,
    /// 0.6 s), 256x4 prop_8_0.05 −33.6 → −7.3, 256x6 prop_5_0.03 −441 → −90 (5 s); 256x2
    /// prop_5_0.03 unsat in 9 s instead of 18.6 s. 50 steps gain little more (256x6 prop_0_0.03:
    /// −517 → −507 for twice the time).
    var rootIntermediateSlopeIterations = 20
    var rootIntermediateSlopeBudget = 4.0
    /// Steps of the joint optimisation of slopes and split multipliers (beta-CROWN) at a search
    /// node that its bounds leave open (`Check.swift`); 0 switches it off. A run stops early once
    /// its constraint is out of reach, so more steps cost little where they do not help: one
    /// thread, 10 / 20 / 40 steps, oval21 cifar_deep_kw img5168 unsat in 31.3 / 32.7 / 28.7 s,
    /// cifar_base_kw img6638 56.7 / 49.8 / 47.9 s, mnistfc 256x4 prop_0_0.03 14.6 / 15.2 / 15.0 s.
    var splitMultiplierIterations = 40
    /// Whether a node first judges its constraints (bounds, then slopes and split multipliers)
    /// with its nearest ancestor's intermediate bounds, re-computing its own only when those
    /// leave it open. One thread, with / without: oval21 cifar_base_kw img6638 unsat in 27.3 /
    /// 36.1 s (769 of 775 conflicts found this way), cifar_deep_kw img5168 21.6 / 22.6 s,
    /// cifar10_resnet resnet_2b prop_36 21.9 / 22.7 s; mnistfc, where a third of the conflicts
    /// come this way, 256x4 prop_0_0.03 15.4 / 14.9 s, 256x2 prop_3_0.03 6.9 / 6.6 s. Off in the
    /// ReLU searches of input-splitting boxes (`InputSplitting`).
    var boundsFromParentFirst = true
    /// Nodes whose ancestor's bounds left them open, then computed their own, and the share of
    /// those that their own bounds must refute, for the worker to go on computing them
    /// (`SolverState.noteOwnBounds`); below it, such nodes keep their ancestor's bounds and are
    /// judged with them alone (beta-CROWN's fixed intermediate bounds). On networks with
    /// convolutions the splits fall in the last layers and the fresh bounds of the few layers after
    /// them seldom refute a node (0–6 % of those nodes on oval21 and cifar10_resnet, against about
    /// half on mnistfc and mnist_gdvb), yet each back-substitutes their rows through every
    /// convolution. One thread, always computing them / with this switch: cifar10_resnet resnet_2b
    /// prop_10 unsat in 54.7 / 35.0 s, prop_22 52.3 / 29.3 s, oval21 cifar_deep_kw img5533 45.8 /
    /// 21.5 s. Never computing them (after the root's) fails on fully-connected networks: mnistfc
    /// 256x4 prop_0_0.03 unsat in 3 s with them, a timeout at 120 s without (4.7 s when computed
    /// at every other level only).
    var ownBoundsWindow = 64
    var ownBoundsMinimumRefutationRate = 0.15
    /// An earlier search of the same run (same network and box) found the nodes' own bounds
    /// unproductive: the later ones keep their ancestors' from the start instead of learning it
    /// again over a window of nodes.
    var ownBoundsKnownUnproductive = false
    /// Whether the open disjuncts of one case that are each a single output constraint are
    /// searched as one joint problem (``Problem/joint(_:)``) in the ReLU search, rather than one
    /// search each.
    var jointAlternatives = true
    /// The part of its fair share of the time a joint problem's search gets before its
    /// alternatives are searched one by one (``Problem/separateParts``).
    var jointShare = 0.5
    /// Whether the multipliers run before an inner node's LP too (not only where no LP runs).
    var splitMultipliersBeforeLP = true
    /// Inner-node LPs after the multipliers, and the share of them that must refute, for inner
    /// LPs to go on (`SolverState.noteInnerLP`).
    var innerLPWindow = 32
    var innerLPMinimumRefutationRate = 0.25

    // MARK: Stabilization
    /// Share of a problem's time the first, untightened ReLU search may use; then LP tightening
    /// of the unstable neurons (`Tighten.swift`) may use `rootTighteningShare` of what is left
    /// before the search starts again (`Verifier.reluSearch`).
    var quickSearchShare = 0.15
    var rootTighteningShare = 0.25
    /// Conflicts without a new level-0 fact after which stabilization runs (at a restart).
    var stabilizeAfterConflicts = 128
    /// Most neurons tightened per stabilization round.
    var stabilizeNeurons = 32
    /// Share of the remaining time one stabilization round may use.
    var stabilizeTimeShare = 0.1

    // MARK: Parallel search
    /// Conflicts a worker searches before it checks whether idle workers want part of its tree.
    var donationCheckInterval = 4
}
