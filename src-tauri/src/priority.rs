//! Background work yields the CPU to the webview. Scans, FixMatch views and training keep
//! every core busy for seconds to minutes; at the same priority as the webview they made each
//! swipe wait (measured in the e2e suite: next card in 10-40 ms before the first background
//! training, 40-160 ms during it, on 2 cores). Long jobs and rayon's workers therefore run
//! at a lower priority (nice 10) than the webview and the IPC threads.

/// Nice value of background threads (0 is normal, 19 the lowest).
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority (Linux and Android: nice is per thread).
pub fn lower_this_thread() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: setpriority only reads its integer arguments; `who` 0 is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, BACKGROUND_NICE);
    }
}

/// Makes rayon's global pool (the engine's parallel work) start its threads at background
/// priority. Call before anything uses rayon; later calls do nothing.
pub fn background_rayon_pool() {
    let _ = rayon::ThreadPoolBuilder::new()
        .start_handler(|_| lower_this_thread())
        .build_global();
}
