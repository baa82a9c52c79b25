#ifndef NNVERIFY_GLPK_GUARD_H
#define NNVERIFY_GLPK_GUARD_H

/* GLPK ends the process (abort) when one of its internal checks fails, e.g. "Assertion failed:
 * k1 < k2" in its LU factorisation (bflib/sgf.c) on a structurally singular warm basis. These
 * wrappers run one GLPK call with an error hook that jumps back here instead, so the caller gets
 * NNV_GLPK_ABORTED and can give the LP up. A problem object that aborted is in an unknown state:
 * never use or delete it again (glp_delete_prob may itself fail on it).
 *
 * The pointers are GLPK's (glp_prob *, glp_smcp *, glp_iocp *), passed untyped so that this
 * header does not include glpk.h a second time into another module. */

#define NNV_GLPK_ABORTED (-1000)

int nnv_guarded_simplex(void *problem, const void *parameters);
int nnv_guarded_intopt(void *problem, const void *parameters);
int nnv_guarded_factorize(void *problem);

#endif
