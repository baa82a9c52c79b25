import CAllocator

/// Allocator settings for the search's working matrices.
enum Allocator {
    /// glibc's malloc hands blocks above its mmap threshold (dynamic, from 128 KiB) straight back
    /// to the system when they are freed, and trims the heap's top likewise, so the per-node
    /// back-substitution matrices of convolutional networks (megabytes each) were mapped and
    /// zero-filled afresh by the kernel at every node: page faults were 8 % of a search on oval21
    /// cifar_wide_kw. Fixed thresholds keep freed blocks for reuse (32 MiB is glibc's largest
    /// mmap threshold).
    static func keepFreedMemory() {
        _ = nnv_keep_freed_memory(32 << 20, 1 << 30)
    }
}
