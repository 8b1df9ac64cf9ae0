//! The threads that compute password hashes: a fixed number, started once, each at a lower
//! scheduling priority (nice 10) than the threads that serve requests.
//!
//! A fixed pool bounds both the CPU a login storm can take and the memory it can hold: argon2id
//! allocates 19 MiB per hash, and the C allocator keeps a freed buffer in the arena of the
//! thread that used it, so hashes spread over a large blocking pool (dozens of threads) kept
//! hundreds of MiB resident; a few long-lived threads reuse their own. The lower priority lets
//! the kernel run data requests first when both wait for a core.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

/// The niceness of the hashing threads (0 is normal, 19 the lowest priority).
const NICENESS: i32 = 10;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of hashing threads; they stop when the last handle is dropped.
#[derive(Debug, Clone)]
pub(super) struct HashPool {
    jobs: Sender<Job>,
}

fn work(queue: &Mutex<Receiver<Job>>) {
    // Best effort: without the permission to change the niceness the thread runs at normal
    // priority, still bounded in number.
    let _ = rustix::process::setpriority_process(None, NICENESS);
    loop {
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match next {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

impl HashPool {
    /// Starts `threads` hashing threads (at least one).
    pub(super) fn start(threads: usize) -> std::io::Result<HashPool> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new().name(format!("password-hash-{n}")).spawn(move || work(&queue))?;
        }
        Ok(HashPool { jobs })
    }

    /// Runs `work` on a hashing thread and waits (asynchronously) for its result; `None` when
    /// the pool is gone or the work panicked.
    pub(super) async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (reply, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
        });
        self.jobs.send(job).ok()?;
        result.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_named_threads() {
        let pool = HashPool::start(2).unwrap();
        let name = pool.run(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
        assert!(name.unwrap().starts_with("password-hash-"));
        let niceness = pool.run(|| rustix::process::getpriority_process(None).unwrap()).await.unwrap();
        assert_eq!(niceness, NICENESS);
    }
}
