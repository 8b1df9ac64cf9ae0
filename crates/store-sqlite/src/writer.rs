//! The single writer: a dedicated thread owns the write connection and applies write requests in
//! batches (group commit).
//!
//! The thread waits for a request, then drains every request already queued (up to
//! [`MAX_BATCH`]) and runs them in one transaction, each inside its own `SAVEPOINT`: a request
//! that fails rolls back to its savepoint, so it leaves nothing behind while the others keep
//! their work. One `COMMIT` (one fsync with `synchronous=FULL`) then makes the batch durable, and
//! only after it does any request learn its result: an acknowledged write survives a crash. If
//! the commit fails, every request of the batch gets the error.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;
use store::StoreError;
use tokio::sync::oneshot;

use crate::error::SqlResultExt;

/// The most requests one transaction carries.
const MAX_BATCH: usize = 512;

/// A queued write: runs inside a savepoint, then learns whether the batch committed.
trait Task: Send {
    /// Runs the work; `false` means it failed and its savepoint must be rolled back.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Replies to the caller: the work's own result if `commit` is `Ok`, else the commit error.
    fn finish(self: Box<Self>, commit: Result<(), StoreError>);
}

struct Job<T, F> {
    work: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Task for Job<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let outcome = match self.work.take() {
            Some(work) => work(conn),
            None => Err(StoreError::Internal("write request ran twice".to_owned())),
        };
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), StoreError>) {
        let result = match (commit, self.outcome) {
            (Err(e), Some(Ok(_))) => Err(e),
            (_, Some(outcome)) => outcome,
            (Err(e), None) => Err(e),
            (Ok(()), None) => Err(StoreError::Internal("write request did not run".to_owned())),
        };
        // The caller may have gone away (request cancelled); the write stands either way.
        let _ = self.reply.send(result);
    }
}

/// The handle to the writer thread.
pub(crate) struct Writer {
    queue: Option<mpsc::Sender<Box<dyn Task>>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub(crate) fn start(conn: Connection) -> Result<Writer, StoreError> {
        let (queue, requests) = mpsc::channel::<Box<dyn Task>>();
        let thread = std::thread::Builder::new()
            .name("urbackend-sqlite-writer".to_owned())
            .spawn(move || run(&conn, &requests))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer { queue: Some(queue), thread: Some(thread) })
    }

    /// Runs `work` in the writer's next batch and returns its result once the batch committed.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Job { work: Some(work), outcome: None, reply });
        let queue = self.queue.as_ref().ok_or_else(stopped)?;
        queue.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Stops the thread after the queued requests, and waits for it.
    pub(crate) fn shutdown(&mut self) {
        self.queue.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the database writer has stopped".to_owned())
}

fn run(conn: &Connection, requests: &mpsc::Receiver<Box<dyn Task>>) {
    while let Ok(first) = requests.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match requests.try_recv() {
                Ok(task) => batch.push(task),
                Err(_) => break,
            }
        }
        run_batch(conn, batch);
    }
}

fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql).store()?.execute([]).store().map(|_| ())
}

/// Runs one batch in one transaction. If SQLite aborts the transaction midway (an I/O error, a
/// full disk), the requests that ran in it are failed and the rest go on in a new transaction.
fn run_batch(conn: &Connection, batch: Vec<Box<dyn Task>>) {
    let mut pending: Vec<Box<dyn Task>> = Vec::with_capacity(batch.len());
    let mut tasks = batch.into_iter();
    while let Some(mut task) = tasks.next() {
        if conn.is_autocommit()
            && let Err(e) = exec(conn, "BEGIN IMMEDIATE")
        {
            task.finish(Err(e.clone()));
            tasks.for_each(|t| t.finish(Err(e.clone())));
            return;
        }
        let step = exec(conn, "SAVEPOINT ub_request").map(|()| {
            // A panicking request fails alone (its savepoint is rolled back); the writer lives on.
            let ok = std::panic::catch_unwind(AssertUnwindSafe(|| task.run(conn))).unwrap_or(false);
            if !ok {
                let _ = exec(conn, "ROLLBACK TO ub_request");
            }
            let _ = exec(conn, "RELEASE ub_request");
        });
        pending.push(task);
        if let Err(e) = step {
            abort(conn, &mut pending, &e);
            continue;
        }
        if conn.is_autocommit() {
            let e = StoreError::Unavailable("the database aborted the transaction".to_owned());
            abort(conn, &mut pending, &e);
        }
    }
    if pending.is_empty() {
        return;
    }
    let commit = exec(conn, "COMMIT");
    if commit.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for task in pending {
        task.finish(commit.clone());
    }
}

/// Fails the requests of an aborted transaction.
fn abort(conn: &Connection, pending: &mut Vec<Box<dyn Task>>, e: &StoreError) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for task in pending.drain(..) {
        task.finish(Err(e.clone()));
    }
}
