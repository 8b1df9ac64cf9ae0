//! The in-memory snapshot of every project, indexed by id and by key hash, which request
//! handling reads without touching the store. A snapshot is immutable; a change installs a new
//! one (copy on write of the maps, the projects themselves are shared).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use rls_core::KeyRole;

use crate::keys::hashes_equal;
use crate::project::Project;

/// All projects at one moment.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    projects: HashMap<String, Arc<Project>>,
    by_publishable: HashMap<String, String>,
    by_secret: HashMap<String, String>,
}

impl Snapshot {
    pub(crate) fn build(projects: impl IntoIterator<Item = Arc<Project>>) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for project in projects {
            snapshot.add(project);
        }
        snapshot
    }

    fn add(&mut self, project: Arc<Project>) {
        self.by_publishable.insert(project.publishable_key_hash.clone(), project.id.clone());
        self.by_secret.insert(project.secret_key_hash.clone(), project.id.clone());
        self.projects.insert(project.id.clone(), project);
    }

    /// This snapshot with one project replaced, added or (`None`) removed.
    fn with(&self, id: &str, project: Option<Arc<Project>>) -> Snapshot {
        Snapshot::build(self.projects.values().filter(|p| p.id != id).cloned().chain(project))
    }

    pub(crate) fn project(&self, id: &str) -> Option<Arc<Project>> {
        self.projects.get(id).cloned()
    }

    pub(crate) fn projects(&self) -> Vec<Arc<Project>> {
        let mut all: Vec<_> = self.projects.values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// The project whose key of this role hashes to `hash`, confirmed in constant time.
    pub(crate) fn by_key_hash(&self, hash: &str, role: KeyRole) -> Option<Arc<Project>> {
        let index = match role {
            KeyRole::Secret => &self.by_secret,
            KeyRole::Publishable => &self.by_publishable,
        };
        let project = self.projects.get(index.get(hash)?)?;
        let stored = match role {
            KeyRole::Secret => &project.secret_key_hash,
            KeyRole::Publishable => &project.publishable_key_hash,
        };
        hashes_equal(stored, hash).then(|| Arc::clone(project))
    }
}

/// The current snapshot, the change token it reflects, and the last refresh problem.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    snapshot: RwLock<Arc<Snapshot>>,
    seen_token: Mutex<Option<String>>,
    /// Malformed documents left out of the current snapshot.
    skipped: Mutex<Option<String>>,
    /// The failure of the last refresh, cleared by the next one that works.
    failure: Mutex<Option<String>>,
}

impl Cache {
    pub(crate) fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Installs a full reload made after reading `token`.
    pub(crate) fn install(&self, snapshot: Snapshot, token: Option<String>, problem: Option<String>) {
        *self.snapshot.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
        *self.seen_token.lock().unwrap_or_else(PoisonError::into_inner) = token;
        *self.skipped.lock().unwrap_or_else(PoisonError::into_inner) = problem;
    }

    /// Replaces one project after a local write (the change token is left alone, so that the
    /// next poll still picks up whatever other processes did meanwhile).
    pub(crate) fn replace(&self, id: &str, project: Option<Arc<Project>>) {
        let mut guard = self.snapshot.write().unwrap_or_else(PoisonError::into_inner);
        let next = guard.with(id, project);
        *guard = Arc::new(next);
    }

    pub(crate) fn seen_token(&self) -> Option<String> {
        self.seen_token.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Records how the last refresh went.
    pub(crate) fn set_failure(&self, failure: Option<String>) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = failure;
    }

    /// The last refresh's failure, else the malformed documents of the snapshot, if any.
    pub(crate) fn last_error(&self) -> Option<String> {
        let failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner).clone();
        failure.or_else(|| self.skipped.lock().unwrap_or_else(PoisonError::into_inner).clone())
    }
}
