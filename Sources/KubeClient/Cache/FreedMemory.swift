/// Hands heap memory that is free again back to the operating system.
///
/// Filling the caches (a cluster-state file parsed as YAML, the informers' first lists) makes
/// far more short-lived garbage than the objects kept: with 10,000 PVCs the parse peaks near
/// 170 MB for about 22 MB kept. glibc keeps freed heap pages mapped, so without this the process
/// would go on reporting the peak as resident. Called after such a fill, off the request path.
public enum FreedMemory {
    public static func release() {
        #if os(Linux)
            _ = glibcMallocTrim(0)
        #endif
    }

    /// Sets glibc's allocator so that a list's garbage can be given back and requests do not fault
    /// pages in: buffers of 1 MiB and more (a page of a list) are mapped and unmapped on their own,
    /// instead of the threshold rising after the first one is freed and later ones being carved
    /// from the heap, where a few live objects pin their pages; smaller ones (request and answer
    /// bodies of thousands of node names) come from the heap, which keeps up to 16 MiB free at its
    /// top rather than giving it back and faulting it in again at the next request; and two arenas,
    /// not eight per core, so that the garbage of the informers' concurrent lists is not spread
    /// over many heaps. See docs/operations.md (the production-shaped benchmark) for what it buys.
    public static func keepHeapCompact() {
        #if os(Linux)
            _ = glibcMallopt(-3, 1 << 20)  // M_MMAP_THRESHOLD
            _ = glibcMallopt(-1, 16 << 20)  // M_TRIM_THRESHOLD
            _ = glibcMallopt(-8, 2)  // M_ARENA_MAX
        #endif
    }
}

#if os(Linux)
    // glibc's `int malloc_trim(size_t pad)` (<malloc.h>, which the Glibc module does not export).
    @_silgen_name("malloc_trim")
    private func glibcMallocTrim(_ pad: Int) -> Int32

    // glibc's `int mallopt(int param, int value)`.
    @_silgen_name("mallopt")
    private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif
