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
}

#if os(Linux)
    // glibc's `int malloc_trim(size_t pad)` (<malloc.h>, which the Glibc module does not export).
    @_silgen_name("malloc_trim")
    private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
