#ifndef NNVERIFY_ALLOCATOR_SETTINGS_H
#define NNVERIFY_ALLOCATOR_SETTINGS_H

/* Fixed mmap and trim thresholds for glibc's malloc (mallopt, which Swift's Glibc module does
 * not expose): freed large blocks stay in the heap for reuse. Returns 1 when both settings were
 * taken, 0 otherwise (or on a C library without mallopt). */
int nnv_keep_freed_memory(int mmap_threshold, int trim_threshold);

#endif
