//! The connection pools of this process's MongoDB clients, counted for metrics: every client
//! [`crate::uri`] builds reports its pool events here, so the platform store's client and the
//! cached clients of BYO databases add up to one figure per process.

use std::sync::atomic::{AtomicI64, Ordering};

use mongodb::event::EventHandler;
use mongodb::event::cmap::CmapEvent;

static OPEN: AtomicI64 = AtomicI64::new(0);
static IN_USE: AtomicI64 = AtomicI64::new(0);
static CHECKOUT_FAILURES: AtomicI64 = AtomicI64::new(0);

/// Connections of this process's MongoDB clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open (idle or in use).
    pub open: u64,
    /// Connections checked out by an operation now.
    pub in_use: u64,
    /// Check-outs that failed (no connection could be had) since the process started.
    pub checkout_failures: u64,
}

/// The counts now.
pub fn pool_usage() -> PoolUsage {
    let read = |counter: &AtomicI64| u64::try_from(counter.load(Ordering::Relaxed)).unwrap_or(0);
    PoolUsage { open: read(&OPEN), in_use: read(&IN_USE), checkout_failures: read(&CHECKOUT_FAILURES) }
}

/// The handler each client gets.
pub(crate) fn handler() -> EventHandler<CmapEvent> {
    EventHandler::callback(|event: CmapEvent| {
        let (counter, step) = match event {
            CmapEvent::ConnectionCreated(_) => (&OPEN, 1),
            CmapEvent::ConnectionClosed(_) => (&OPEN, -1),
            CmapEvent::ConnectionCheckedOut(_) => (&IN_USE, 1),
            CmapEvent::ConnectionCheckedIn(_) => (&IN_USE, -1),
            CmapEvent::ConnectionCheckoutFailed(_) => (&CHECKOUT_FAILURES, 1),
            _ => return,
        };
        counter.fetch_add(step, Ordering::Relaxed);
    })
}
