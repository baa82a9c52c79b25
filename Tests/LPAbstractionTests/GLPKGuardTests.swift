import CGLPK
import XCTest
@testable import LPAbstraction

/// GLPK ends the process on a failed internal check unless `GLPKGuard` catches it. A parameter
/// GLPK rejects with its own error routine (the path its assertions take) stands in for the rare
/// real failures (a structurally singular warm basis in its LU factorisation).
final class GLPKGuardTests: XCTestCase {
    /// max x subject to x + y ≤ 4, x, y in [0, 3]: optimum 3.
    private func smallLP() -> OpaquePointer {
        let p = glp_create_prob()!
        glp_set_obj_dir(p, GLP_MAX)
        glp_add_rows(p, 1)
        glp_set_row_bnds(p, 1, GLP_UP, 0, 4)
        glp_add_cols(p, 2)
        for j in Int32(1)...2 { glp_set_col_bnds(p, j, GLP_DB, 0, 3) }
        glp_set_obj_coef(p, 1, 1)
        var index: [Int32] = [0, 1, 2]
        var value: [Double] = [0, 1, 1]
        glp_set_mat_row(p, 1, 2, &index, &value)
        return p
    }

    func testAFailedCheckComesBackAsAbortedAndGLPKKeepsWorking() {
        let broken = smallLP()   // left undeleted, as the guard's contract asks
        var bad = glp_smcp()
        glp_init_smcp(&bad)
        bad.msg_lev = 99   // GLPK calls its error routine: without the guard, abort()
        XCTAssertEqual(GLPKGuard.simplex(broken, &bad), GLPKGuard.aborted)

        // The same thread's GLPK solves the next problem normally, and nothing jumps back into
        // the finished guard.
        for _ in 0..<3 {
            let p = smallLP()
            var parameters = glp_smcp()
            glp_init_smcp(&parameters)
            parameters.msg_lev = GLP_MSG_OFF
            XCTAssertEqual(GLPKGuard.simplex(p, &parameters), 0)
            XCTAssertEqual(glp_get_status(p), GLP_OPT)
            XCTAssertEqual(glp_get_obj_val(p), 3, accuracy: 1e-12)
            XCTAssertEqual(GLPKGuard.factorize(p), 0)
            glp_delete_prob(p)
        }
    }

    func testIntoptAndFactorizeAreGuardedToo() {
        let p = smallLP()
        var parameters = glp_iocp()
        glp_init_iocp(&parameters)
        parameters.msg_lev = 99
        XCTAssertEqual(GLPKGuard.intopt(p, &parameters), GLPKGuard.aborted)
        // glp_factorize on a problem with rows but an invalid basis header still works; a problem
        // that aborted is never touched again.
        let q = smallLP()
        glp_std_basis(q)
        XCTAssertEqual(GLPKGuard.factorize(q), 0)
        glp_delete_prob(q)
    }
}
