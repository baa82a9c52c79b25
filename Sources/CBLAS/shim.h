// OpenBLAS's CBLAS interface (Debian libopenblas-dev installs it as
// /usr/include/x86_64-linux-gnu/cblas.h, on the default include path). Its header also declares
// openblas_set_num_threads, which LPAbstraction uses to keep OpenBLAS single-threaded.
#include <cblas.h>
