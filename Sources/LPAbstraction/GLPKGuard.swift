import CGLPK
import CGLPKGuard

/// GLPK calls that come back with ``aborted`` when GLPK fails one of its internal checks, where
/// GLPK itself would end the process (it calls `abort()`). Seen: "Assertion failed: k1 < k2" in
/// the LU factorisation of a structurally singular warm basis (`bflib/sgf.c`, mnistfc 256x4
/// prop_3_0.03, `stability --mode exact`, a certifier's LP after a minute). The problem object is
/// unusable afterwards and must not even be deleted; GLPK leaks what the aborted call held.
enum GLPKGuard {
    /// The code returned when GLPK failed an internal check.
    static let aborted = Int32(NNV_GLPK_ABORTED)

    static func simplex(_ problem: OpaquePointer, _ parameters: inout glp_smcp) -> Int32 {
        Int32(nnv_guarded_simplex(UnsafeMutableRawPointer(problem), &parameters))
    }

    /// `glp_intopt`. Its callback must call only GLPK's accessors (`glp_ios_*`, `glp_get_*`): a
    /// failure inside one would jump back over the Swift frames between.
    static func intopt(_ problem: OpaquePointer, _ parameters: inout glp_iocp) -> Int32 {
        Int32(nnv_guarded_intopt(UnsafeMutableRawPointer(problem), &parameters))
    }

    static func factorize(_ problem: OpaquePointer) -> Int32 {
        Int32(nnv_guarded_factorize(UnsafeMutableRawPointer(problem)))
    }
}
