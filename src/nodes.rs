//! This process as one node of the studio: its row in `nodes` (this module owns the table), its
//! heartbeat, and the checks it makes when it joins.
//!
//! Every process that serves the studio is a node with a new id at each start. It writes a
//! heartbeat every [`Node::tick`] and marks its row stopped on a graceful stop; it is live while
//! its `live_until` (the last heartbeat plus [`LIVE_TICKS`] ticks) is ahead of the database's
//! clock. `/healthz` and `fal-studio admin nodes` show the nodes; job leases
//! (`jobs::runner`) name them as owners.
//!
//! A node also holds an exclusive lock on `DATA_DIR/nodes/<id>.lock` for as long as it runs, and
//! the kernel drops a process's locks the moment it dies. So a lock file that nobody holds
//! belongs to a node of this data folder that is gone: a node restarted after a crash frees its
//! predecessor's jobs at once instead of waiting for their leases to run out. And a live node
//! with a lock file here shares this data folder (and its local storage), while a live node
//! without one runs elsewhere: with `STORAGE=local` that is refused, since each would keep
//! files the other cannot serve.

use std::{
    fs::{File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use sqlx::FromRow;

use crate::{
    config::StorageConfig,
    db::{self, Db, Engine, with_db, with_tx},
    error::Result,
};

/// Heartbeats a node may miss before it counts as gone.
pub const LIVE_TICKS: u32 = 3;
/// The longest time between heartbeats (and lease renewals), whatever the lease.
const MAX_TICK: Duration = Duration::from_secs(5);
/// Rows of nodes gone for longer are removed when a node joins.
const KEEP_GONE_SECS: f64 = 7.0 * 86_400.0;
/// `pg_advisory_xact_lock` key that makes joining nodes take turns ("fal-node").
const JOIN_LOCK: i64 = 0x6661_6c2d_6e6f_6465;
const LOCK_SUFFIX: &str = ".lock";

/// Where a node keeps stored files: only shared object storage works for several nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    Local,
    S3,
}

impl StorageKind {
    pub fn of(config: &StorageConfig) -> Self {
        match config {
            StorageConfig::Local => StorageKind::Local,
            StorageConfig::S3(_) => StorageKind::S3,
        }
    }

    /// As the `nodes.storage` column and `STORAGE` spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Local => "local",
            StorageKind::S3 => "s3",
        }
    }
}

/// This process's node: its id (the owner named on the jobs it holds) and its timing.
#[derive(Debug)]
pub struct Node {
    pub id: String,
    pub host: String,
    pub storage: StorageKind,
    /// How long a lease on a job lasts without renewal (`JOB_LEASE_SECONDS`).
    pub lease: Duration,
    /// How often the heartbeat and the lease renewal run: a third of the lease, at most 5 s.
    pub tick: Duration,
    /// Nodes of this data folder found dead when this one joined, whose jobs it frees first.
    predecessors: Mutex<Vec<String>>,
    _lock: LockFile,
}

impl Node {
    /// The ids of the nodes found dead at start (see [`join`]); empty after the first call.
    pub fn take_predecessors(&self) -> Vec<String> {
        std::mem::take(&mut *self.predecessors.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// How far ahead a heartbeat moves `live_until`, in seconds.
    fn live_for(&self) -> f64 {
        self.tick.as_secs_f64() * f64::from(LIVE_TICKS)
    }
}

/// The tick of a node whose leases last `lease`.
pub fn tick_for(lease: Duration) -> Duration {
    (lease / 3).min(MAX_TICK)
}

/// Registers this process as a node: takes its lock file, retires the dead nodes of this data
/// folder, refuses to run local storage beside a live node elsewhere, and writes its row.
pub async fn join(
    db: &Db,
    data_dir: &Path,
    storage: StorageKind,
    lease: Duration,
) -> anyhow::Result<Arc<Node>> {
    let dir = data_dir.join("nodes");
    crate::private_files::create_private_dir(&dir, "DATA_DIR/nodes")
        .with_context(|| format!("could not create {}", dir.display()))?;
    let id = uuid::Uuid::now_v7().to_string();
    let lock = LockFile::take(&dir, &id).with_context(|| {
        format!(
            "could not create this node's lock file in {}",
            dir.display()
        )
    })?;
    let predecessors = retire_the_dead(db, &dir, &id).await?;
    let node = Node {
        id,
        host: host_name(),
        storage,
        lease,
        tick: tick_for(lease),
        predecessors: Mutex::new(predecessors),
        _lock: lock,
    };
    register(db, &node, &dir).await?;
    if let Err(e) = forget_long_gone(db).await {
        tracing::warn!(error = %e, "could not remove the rows of nodes gone for a week");
    }
    tracing::info!(node_id = %node.id, host = %node.host, "joined as a studio node");
    Ok(Arc::new(node))
}

/// The ids of this data folder's nodes that died (their lock files are free), with their rows
/// marked gone and their lock files removed.
async fn retire_the_dead(db: &Db, dir: &Path, me: &str) -> anyhow::Result<Vec<String>> {
    let mut dead = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("could not read {}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_suffix(LOCK_SUFFIX) else {
            // A lock file half made by a node that died while joining: no row names it.
            if name.ends_with(".new") && LockFile::is_free(&path) {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        };
        if id == me {
            continue;
        }
        // Held for as long as the row is retired, so two nodes joining together retire it once.
        let Ok(file) = OpenOptions::new().read(true).write(true).open(&path) else {
            continue;
        };
        match file.try_lock() {
            Ok(()) => {
                retire(db, id).await?;
                let _ = std::fs::remove_file(&path);
                tracing::info!(
                    node_id = id,
                    "a node of this data folder had stopped without saying so; its jobs are taken over now"
                );
                dead.push(id.to_owned());
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => {
                tracing::warn!(path = %path.display(), error = %e, "could not check a node's lock file")
            }
        }
    }
    Ok(dead)
}

/// A node known to be gone stops counting as live.
async fn retire(db: &Db, id: &str) -> Result<()> {
    let now = db.engine().now();
    let sql = format!("UPDATE nodes SET live_until = {now} WHERE id = $1 AND live_until > {now}");
    with_db!(db, pool => sqlx::query(&sql).bind(id).execute(pool).await.map(|_| ()))?;
    Ok(())
}

#[derive(Debug, FromRow)]
struct LiveNode {
    id: String,
    host: String,
    storage: String,
    heartbeat_at: String,
}

/// Checks the other live nodes and writes this node's row, one joining node at a time.
async fn register(db: &Db, node: &Node, dir: &Path) -> anyhow::Result<()> {
    let mut tx = db::begin_write(db).await?;
    if tx.engine() == Engine::Postgres {
        // SQLite's BEGIN IMMEDIATE already makes joins take turns; on Postgres two nodes
        // starting together could each miss the other without this.
        with_tx!(&mut tx, c => sqlx::query("/* postgres */ SELECT pg_advisory_xact_lock($1)")
            .bind(JOIN_LOCK)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    let now = tx.engine().now();
    let sql = format!(
        "SELECT id, host, storage, heartbeat_at FROM nodes \
         WHERE live_until > {now} AND stopped_at IS NULL ORDER BY started_at"
    );
    let live: Vec<LiveNode> = with_tx!(&mut tx, c => sqlx::query_as(&sql).fetch_all(c).await)?;
    // A live node with a lock file here shares this data folder, and so the local files.
    let elsewhere = live
        .iter()
        .find(|n| !dir.join(format!("{}{LOCK_SUFFIX}", n.id)).exists());
    if let Some(other) = elsewhere {
        let theirs_local = other.storage == StorageKind::Local.as_str();
        if node.storage == StorageKind::Local || theirs_local {
            anyhow::bail!(
                "{} Another studio node is running on this database with a data folder of its own (node {} on {}, last heartbeat {}), and {}. Use STORAGE=s3 with the same bucket on every node (see the README's section on running several nodes), or stop the other node first.",
                if node.storage == StorageKind::Local {
                    "This node uses STORAGE=local, which one node alone can use."
                } else {
                    "Local storage cannot be shared between nodes."
                },
                other.id,
                other.host,
                other.heartbeat_at,
                if theirs_local {
                    "it keeps its files on its own disk (STORAGE=local), where this node cannot read them"
                } else {
                    "it could not read the files this node keeps on its own disk"
                },
            );
        }
    }
    let insert = match tx.engine() {
        Engine::Sqlite => {
            "/* sqlite */ INSERT INTO nodes (id, host, storage, live_until) \
             VALUES ($1, $2, $3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || $4 || ' seconds'))"
        }
        Engine::Postgres => {
            "/* postgres */ INSERT INTO nodes (id, host, storage, live_until) \
             VALUES ($1, $2, $3, studio_now_plus($4))"
        }
    };
    with_tx!(&mut tx, c => sqlx::query(insert)
        .bind(&node.id)
        .bind(&node.host)
        .bind(node.storage.as_str())
        .bind(node.live_for())
        .execute(c)
        .await
        .map(|_| ()))?;
    tx.commit().await?;
    Ok(())
}

async fn forget_long_gone(db: &Db) -> Result<()> {
    // `$1` is negative: that long ago.
    let sql = match db.engine() {
        Engine::Sqlite => {
            "/* sqlite */ DELETE FROM nodes \
             WHERE live_until < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', $1 || ' seconds')"
        }
        Engine::Postgres => {
            "/* postgres */ DELETE FROM nodes WHERE live_until < studio_now_plus($1)"
        }
    };
    with_db!(db, pool => sqlx::query(sql).bind(-KEEP_GONE_SECS).execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// The node is alive: one statement, every [`Node::tick`].
pub async fn heartbeat(db: &Db, node: &Node) -> Result<()> {
    let sql = match db.engine() {
        Engine::Sqlite => {
            "/* sqlite */ UPDATE nodes SET heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), \
             live_until = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || $2 || ' seconds') \
             WHERE id = $1 AND stopped_at IS NULL"
        }
        Engine::Postgres => {
            "/* postgres */ UPDATE nodes SET heartbeat_at = studio_now(), \
             live_until = studio_now_plus($2) WHERE id = $1 AND stopped_at IS NULL"
        }
    };
    with_db!(db, pool => sqlx::query(sql)
        .bind(&node.id)
        .bind(node.live_for())
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// A graceful stop: the node no longer counts as live (and its heartbeat stops changing that).
pub async fn leave(db: &Db, node: &Node) -> Result<()> {
    let now = db.engine().now();
    let sql = format!("UPDATE nodes SET stopped_at = {now}, live_until = {now} WHERE id = $1");
    with_db!(db, pool => sqlx::query(&sql).bind(&node.id).execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// How many nodes are live now, this one included.
pub async fn live_count(db: &Db) -> Result<i64> {
    let now = db.engine().now();
    let sql = format!("SELECT COUNT(*) FROM nodes WHERE live_until > {now} AND stopped_at IS NULL");
    Ok(with_db!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await)?)
}

/// A node as `fal-studio admin nodes` lists it.
#[derive(Debug, Clone, FromRow)]
pub struct NodeRow {
    pub id: String,
    pub host: String,
    pub storage: String,
    pub started_at: String,
    pub heartbeat_at: String,
    pub stopped_at: Option<String>,
    pub live: bool,
    /// The database's clock when the list was read, to say how old each heartbeat is.
    pub now: String,
}

/// Every node the table remembers (a week of them), newest first.
pub async fn list(db: &Db) -> Result<Vec<NodeRow>> {
    let now = db.engine().now();
    let sql = format!(
        "SELECT id, host, storage, started_at, heartbeat_at, stopped_at, \
         (live_until > {now} AND stopped_at IS NULL) AS live, {now} AS now \
         FROM nodes ORDER BY started_at DESC, id DESC"
    );
    Ok(with_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?)
}

/// A node's exclusive lock on its file in `DATA_DIR/nodes`, held until the process ends (the
/// kernel then drops it, however the process ended).
#[derive(Debug)]
struct LockFile {
    path: PathBuf,
    _file: File,
}

impl LockFile {
    /// Made under a temporary name, locked, then renamed: a file under a node's name is always
    /// locked while that node lives, so nobody takes a node that is still joining for dead.
    fn take(dir: &Path, id: &str) -> std::io::Result<LockFile> {
        let path = dir.join(format!("{id}{LOCK_SUFFIX}"));
        let fresh = dir.join(format!("{id}{LOCK_SUFFIX}.new"));
        crate::private_files::create_private_file(&fresh)?;
        let file = OpenOptions::new().read(true).write(true).open(&fresh)?;
        file.try_lock().map_err(std::io::Error::from)?;
        std::fs::rename(&fresh, &path)?;
        Ok(LockFile { path, _file: file })
    }

    fn is_free(path: &Path) -> bool {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .is_ok_and(|f| f.try_lock().is_ok())
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The machine's name, for people reading the node list (Linux's, else `$HOSTNAME`).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tick_is_a_third_of_the_lease_and_at_most_five_seconds() {
        assert_eq!(tick_for(Duration::from_secs(3)), Duration::from_secs(1));
        assert_eq!(tick_for(Duration::from_secs(30)), Duration::from_secs(5));
    }

    #[test]
    fn a_lock_file_is_held_until_dropped_and_then_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let lock = LockFile::take(dir.path(), "n1").expect("lock");
        let path = dir.path().join("n1.lock");
        assert!(path.exists());
        assert!(!LockFile::is_free(&path), "held while the node lives");
        drop(lock);
        assert!(!path.exists(), "removed on drop");
    }
}
