//! glibc malloc tuning for the two pixel-heavy phases, process-wide (glibc's knobs are global).
//!
//! Left alone, glibc raises its mmap threshold each time a big block is freed; multi-MB decode
//! buffers and backbone activations then come from the per-thread heaps and fragment them:
//! computing FixMatch views of 500 phone photos peaked at 1.3-2.1 GB RSS. Pinning the
//! threshold at its 128 KiB default ([`pin`], at start-up) kept that at 227 MB, but makes every
//! big buffer a fresh mmap: during a scan the kernel then spent 29% of the CPU time on page
//! faults and TLB shootdowns (perf), and the tract scan ran at 42-44 photos/s instead of 57-60.
//! So a scan ([`ScanProfile`]) lifts the threshold to 32 MiB (activations and working images
//! are reused from the heap; full-size decodes are still mmapped) and the trim threshold to
//! 64 MiB (no give-back churn), then restores the pin and returns the heap's free memory.
//! Elsewhere (musl, Android, macOS...) these are no-ops.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    const PINNED: libc::c_int = 128 * 1024;

    pub fn set(mmap: libc::c_int, trim: libc::c_int) {
        // SAFETY: mallopt only changes allocator parameters; it is thread-safe in glibc.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, mmap);
            libc::mallopt(libc::M_TRIM_THRESHOLD, trim);
        }
    }

    pub fn pin() {
        set(PINNED, 2 * PINNED);
    }

    pub fn scan() {
        set(32 << 20, 64 << 20);
    }

    pub fn release() {
        pin();
        // SAFETY: returns free heap memory to the OS; no pointers involved.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub fn pin() {}
    pub fn scan() {}
    pub fn release() {}
}

/// Pins glibc's mmap threshold at 128 KiB: call once at start-up, before threads start.
pub fn pin() {
    imp::pin();
}

/// While alive, the allocator is tuned for the scan's churn of same-sized buffers.
pub(crate) struct ScanProfile(());

impl ScanProfile {
    pub(crate) fn enter() -> ScanProfile {
        imp::scan();
        ScanProfile(())
    }
}

impl Drop for ScanProfile {
    fn drop(&mut self) {
        imp::release();
    }
}
