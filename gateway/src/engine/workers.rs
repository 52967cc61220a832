//! DuckDB's worker threads, run by the gateway so that they wake for statements only while
//! the CPUs can spare them.
//!
//! Left to itself, DuckDB keeps `threads - 1` background workers per database instance and
//! wakes one for every task any query schedules, `SELECT 1` included. The statement's own
//! thread usually runs that task first, so the woken worker finds nothing, spins and sleeps
//! again. With many connections sending short statements that costs more CPU than the
//! statements themselves (a `threads = 1` gateway served 1.6× the `SELECT 1`s at 16
//! connections), and such statements gain nothing from parallelism: a statement always runs
//! the tasks it schedules itself when no worker takes them.
//!
//! So the instance is opened with every thread external (`external_threads = threads`: plans
//! still use all of them, DuckDB starts none) and the gateway runs the `threads - 1` workers
//! itself. They are inside DuckDB, taking its tasks as its own workers would:
//! - while a statement not known to be short runs ([`Entry`] with `long`), so it gets its
//!   parallelism;
//! - while statements do not overlap (none for [`CALM`]): then the CPUs have time to spare, and
//!   a worker spinning after each wake-up keeps a core out of its idle state, which makes the
//!   next round trip of a lone client faster on a VM.
//!
//! The rest of the time they wait on a condition variable of ours, where DuckDB's task queue
//! cannot wake them.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use duckdb::ffi;

/// How long statements must have run one at a time before the workers join every statement
/// again.
pub const CALM: Duration = Duration::from_millis(100);

/// A DuckDB task state: the flag `duckdb_execute_tasks_state` runs under until
/// `duckdb_finish_execution` clears it (which also wakes the workers blocked in DuckDB).
struct TaskState(ffi::duckdb_task_state);

// The state is an atomic flag owned by DuckDB, made to be shared by several threads.
unsafe impl Send for TaskState {}
unsafe impl Sync for TaskState {}

impl Drop for TaskState {
    fn drop(&mut self) {
        // only once no worker runs under it: every worker holds an Arc while it does
        unsafe { ffi::duckdb_destroy_task_state(self.0) }
    }
}

/// The raw instance handle, for creating task states.
#[derive(Clone, Copy)]
struct Instance(ffi::duckdb_database);

// DuckDB database handles are thread-safe; the instance outlives the workers (see
// `Workers::start`).
unsafe impl Send for Instance {}
unsafe impl Sync for Instance {}

#[derive(Default)]
struct Control {
    /// Reasons for the workers to be inside DuckDB: long statements, plus one while calm.
    demand: usize,
    /// The state the workers run under while `demand > 0`.
    state: Option<Arc<TaskState>>,
    shutdown: bool,
}

struct Shared {
    instance: Instance,
    control: Mutex<Control>,
    changed: Condvar,
    /// Statements (and other engine work) running on the instance now, inline or not.
    running: AtomicUsize,
    /// When two last ran at once, in milliseconds since `epoch`.
    last_overlap_ms: AtomicU64,
    epoch: Instant,
    /// Whether the workers are in for calm (one unit of `Control::demand`).
    calm: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add_demand(&self) {
        let mut c = self.lock();
        self.demand_up(&mut c);
    }

    fn remove_demand(&self) {
        let mut c = self.lock();
        self.demand_down(&mut c);
    }

    fn demand_up(&self, c: &mut Control) {
        c.demand += 1;
        if c.demand == 1 && !c.shutdown {
            let state = unsafe { ffi::duckdb_create_task_state(self.instance.0) };
            c.state = Some(Arc::new(TaskState(state)));
            self.changed.notify_all();
        }
    }

    fn demand_down(&self, c: &mut Control) {
        c.demand -= 1;
        if c.demand == 0 {
            if let Some(s) = c.state.take() {
                // clears the flag and wakes the workers waiting inside DuckDB; each finishes
                // the task it holds, if any, and comes back to wait on `changed`
                unsafe { ffi::duckdb_finish_execution(s.0) };
            }
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Enter or leave calm; the flag is checked again under the lock, so racing callers
    /// change the demand once.
    fn set_calm(&self, calm: bool) {
        let mut c = self.lock();
        if self.calm.load(Ordering::Relaxed) == calm {
            return;
        }
        self.calm.store(calm, Ordering::Relaxed);
        if calm {
            self.demand_up(&mut c);
        } else {
            self.demand_down(&mut c);
        }
    }
}

/// The worker threads of one database instance.
pub struct Workers {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Start `n` workers for an instance opened with `external_threads` = its `threads`.
    ///
    /// # Safety
    /// `db` must stay open until [`Workers::stop`] has returned.
    pub unsafe fn start(db: ffi::duckdb_database, n: usize) -> std::io::Result<Workers> {
        let shared = Arc::new(Shared {
            instance: Instance(db),
            control: Mutex::default(),
            changed: Condvar::new(),
            running: AtomicUsize::new(0),
            last_overlap_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            calm: AtomicBool::new(false),
        });
        let mut workers = Workers {
            shared,
            threads: Vec::with_capacity(n),
        };
        for i in 0..n {
            let shared = workers.shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("duckdb-worker-{i}"))
                .spawn(move || work(&shared));
            match spawned {
                Ok(t) => workers.threads.push(t),
                Err(e) => {
                    workers.stop();
                    return Err(e);
                }
            }
        }
        Ok(workers)
    }

    /// Engine work starts on the instance; `long` when it is not known to be short. The
    /// returned guard marks its end.
    pub fn enter(&self, long: bool) -> Entry {
        let s = &*self.shared;
        let running = s.running.fetch_add(1, Ordering::AcqRel) + 1;
        if running > 1 {
            s.last_overlap_ms.store(s.now_ms(), Ordering::Relaxed);
            if s.calm.load(Ordering::Relaxed) {
                s.set_calm(false);
            }
        } else if !s.calm.load(Ordering::Relaxed)
            && s.now_ms() >= s.last_overlap_ms.load(Ordering::Relaxed) + CALM.as_millis() as u64
        {
            s.set_calm(true);
        }
        if long {
            s.add_demand();
        }
        Entry {
            shared: self.shared.clone(),
            long,
        }
    }

    /// Whether the workers are inside DuckDB now (for tests).
    pub fn active(&self) -> bool {
        self.shared.lock().state.is_some()
    }

    /// Stop and join every worker; afterwards the instance may be closed.
    pub fn stop(&mut self) {
        {
            let mut c = self.shared.lock();
            c.shutdown = true;
            if let Some(s) = c.state.take() {
                unsafe { ffi::duckdb_finish_execution(s.0) };
            }
            self.shared.changed.notify_all();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Held while engine work runs on the instance (see [`Workers::enter`]).
pub struct Entry {
    shared: Arc<Shared>,
    long: bool,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.shared.running.fetch_sub(1, Ordering::AcqRel);
        if self.long {
            self.shared.remove_demand();
        }
    }
}

fn work(shared: &Shared) {
    let mut c = shared.lock();
    loop {
        if c.shutdown {
            return;
        }
        let Some(state) = c.state.clone() else {
            c = shared.changed.wait(c).unwrap_or_else(|p| p.into_inner());
            continue;
        };
        drop(c);
        // Returns once the state is finished (at once if it already is). A finished state is
        // never in `Control::state` again, so the next pass waits on `changed` for a new one.
        unsafe { ffi::duckdb_execute_tasks_state(state.0) };
        drop(state);
        c = shared.lock();
    }
}
