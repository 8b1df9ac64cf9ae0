//! Opening connections (pragmas, functions) and the pool of reader connections.
//!
//! Every connection: WAL journal, a busy timeout, a statement cache, memory-mapped reads and the
//! functions of [`crate::functions`]. The writer runs with `synchronous=FULL` (durable commits)
//! unless the store is a throwaway one. Readers are `query_only`; WAL lets them read committed
//! snapshots while the writer writes. Reads run on Tokio's blocking threads, at most
//! [`Readers::capacity`] at a time, each with a connection of its own from the pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use store::StoreError;
use tokio::sync::Semaphore;

use crate::error::SqlResultExt;
use crate::functions;

/// How long a connection waits for a lock before giving up (`SQLITE_BUSY`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// Which connection to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The writer; `durable` selects `synchronous=FULL` (else `OFF`, for throwaway stores).
    Writer {
        /// Whether commits are durable.
        durable: bool,
    },
    /// A reader.
    Reader,
}

/// Opens and configures a connection.
pub(crate) fn open(path: &Path, role: Role) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT).store()?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)).store()?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Internal(format!("cannot switch {} to WAL mode (got {mode})", path.display())));
    }
    // No memory map: in WAL mode every commit by another connection made each reader remap the
    // file (measured: a third of the readers' time under load, and most of the resident memory).
    // A modest page cache per connection keeps the server small; the OS caches the file.
    let cache_kib = match role {
        Role::Writer { .. } => 8_000,
        Role::Reader => 2_000,
    };
    conn.execute_batch(&format!("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{cache_kib}; PRAGMA mmap_size = 0;"))
        .store()?;
    match role {
        Role::Writer { durable } => {
            let sync = if durable { "FULL" } else { "OFF" };
            conn.execute_batch(&format!("PRAGMA synchronous = {sync}; PRAGMA journal_size_limit = 67108864;"))
                .store()?;
        }
        Role::Reader => conn.execute_batch("PRAGMA query_only = 1;").store()?,
    }
    functions::register(&conn).store()?;
    Ok(conn)
}

/// The reader connections.
pub(crate) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    capacity: usize,
}

impl Readers {
    /// A pool of at most `capacity` readers of `path`, opened on demand.
    pub(crate) fn new(path: PathBuf, capacity: usize) -> Readers {
        let capacity = capacity.max(1);
        Readers { path, idle: Mutex::new(Vec::new()), permits: Arc::new(Semaphore::new(capacity)), capacity }
    }

    /// How many reads run now, and how many may run at once (for metrics).
    pub(crate) fn usage(&self) -> (usize, usize) {
        (self.capacity.saturating_sub(self.permits.available_permits()), self.capacity)
    }

    /// How many reads may run at once: twice the cores, between 2 and 8.
    pub(crate) fn capacity() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get() * 2).clamp(2, 8)
    }

    /// Runs `read` on a reader connection on a blocking thread.
    pub(crate) async fn read<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the store is closed".to_owned()))?;
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = match readers.take() {
                Some(conn) => conn,
                None => open(&readers.path, Role::Reader)?,
            };
            let result = read(&mut conn);
            readers.give(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
    }

    fn take(&self) -> Option<Connection> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop()
    }

    fn give(&self, conn: Connection) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
    }

    /// Closes the idle connections.
    pub(crate) fn close(&self) {
        self.permits.close();
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}
