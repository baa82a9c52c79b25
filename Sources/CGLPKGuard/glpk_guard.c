#include "glpk_guard.h"

#include <glpk.h>
#include <setjmp.h>
#include <stdio.h>

/* GLPK keeps its environment per thread, and so do these: a hook installed by one thread's call
 * jumps back into that thread's frame only. */
static _Thread_local jmp_buf *active_frame;

static void jump_back(void *info) {
    (void)info;
    longjmp(*active_frame, 1);
}

/* GLPK prints its error message before calling the hook; stdout carries results, so its terminal
 * output goes to stderr, each line marked as GLPK's. Returning non-zero tells GLPK the text was
 * handled. */
static _Thread_local int at_line_start = 1;

static int to_stderr(void *info, const char *text) {
    (void)info;
    for (const char *c = text; *c != '\0'; c++) {
        if (at_line_start) fputs("glpk: ", stderr);
        fputc(*c, stderr);
        at_line_start = *c == '\n';
    }
    return 1;
}

#define GUARDED(call)                                                         \
    do {                                                                      \
        jmp_buf frame;                                                        \
        jmp_buf *outer = active_frame;                                        \
        int terminal = glp_term_out(GLP_OFF);                                 \
        glp_term_out(terminal);                                               \
        glp_term_hook(to_stderr, NULL);                                       \
        if (setjmp(frame) != 0) {                                             \
            active_frame = outer;                                             \
            glp_error_hook(NULL, NULL);                                       \
            glp_term_out(terminal); /* the error path switched it on */       \
            fputs("glpk: recovered: the call fails instead of ending the "    \
                  "process, and this LP is not used again\n", stderr);        \
            return NNV_GLPK_ABORTED;                                          \
        }                                                                     \
        active_frame = &frame;                                                \
        glp_error_hook(jump_back, NULL);                                      \
        int code = (call);                                                    \
        glp_error_hook(NULL, NULL);                                           \
        active_frame = outer;                                                 \
        return code;                                                          \
    } while (0)

int nnv_guarded_simplex(void *problem, const void *parameters) {
    GUARDED(glp_simplex((glp_prob *)problem, (const glp_smcp *)parameters));
}

int nnv_guarded_intopt(void *problem, const void *parameters) {
    GUARDED(glp_intopt((glp_prob *)problem, (const glp_iocp *)parameters));
}

int nnv_guarded_factorize(void *problem) {
    GUARDED(glp_factorize((glp_prob *)problem));
}
