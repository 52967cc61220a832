//! What a piece of engine work cost the thread that ran it: CPU time, and whether it had to
//! wait for something (I/O, a lock, another thread).
//!
//! Wall-clock time cannot tell a statement that is short from one that was merely preempted:
//! with more connection threads than cores, a 300 µs lookup often takes over a millisecond
//! of wall time. The thread's own accounting can: CPU time is what the work used, and a
//! voluntary context switch means it blocked. Work done within the limit in wall time is short
//! whatever it waited for.

use std::time::{Duration, Instant};

/// The cost of one piece of work to its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub wall: Duration,
    pub cpu: Duration,
    /// It gave up the CPU to wait at least once.
    pub blocked: bool,
}

impl Usage {
    /// Short enough to run on a connection's thread: done within `max`, or under `max` of CPU
    /// without blocking (it was only preempted).
    pub fn short(&self, max: Duration) -> bool {
        self.wall < max || (self.cpu < max && !self.blocked)
    }
}

/// The calling thread's CPU time and voluntary context switches so far.
fn sample() -> (Duration, i64) {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: RUSAGE_THREAD with a valid pointer only writes the struct
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, u.as_mut_ptr()) };
    if rc != 0 {
        // never on Linux; counted as a wait, so the work is not taken for short
        return (Duration::ZERO, i64::MIN);
    }
    let u = unsafe { u.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(u.ru_utime) + tv(u.ru_stime), u.ru_nvcsw)
}

/// Run `f` and report what it cost this thread.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Usage) {
    let begun = Instant::now();
    let (cpu0, waits0) = sample();
    let out = f();
    let (cpu1, waits1) = sample();
    let usage = Usage {
        wall: begun.elapsed(),
        cpu: cpu1.saturating_sub(cpu0),
        blocked: waits1 != waits0 || waits0 == i64::MIN || waits1 == i64::MIN,
    };
    (out, usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cpu_and_not_sleep() {
        let ((), spin) = measure(|| {
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(20) {
                std::hint::spin_loop();
            }
        });
        assert!(spin.cpu >= Duration::from_millis(10), "{spin:?}");
        assert!(!spin.short(Duration::from_millis(1)));

        let ((), slept) = measure(|| std::thread::sleep(Duration::from_millis(20)));
        assert!(slept.blocked, "{slept:?}");
        assert!(slept.cpu < Duration::from_millis(5), "{slept:?}");
        assert!(
            !slept.short(Duration::from_millis(1)),
            "a wait is never short"
        );

        let (x, quick) = measure(|| 2 + 2);
        assert_eq!(x, 4);
        assert!(quick.short(Duration::from_millis(1)), "{quick:?}");
    }
}
