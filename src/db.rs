//! The SQLite pool, set up for a server: WAL, foreign keys, a busy timeout, and the embedded
//! migrations applied at start-up.

use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub async fn connect(database_url: &str) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(database_url)
        .with_context(|| "DATABASE_URL is not a valid SQLite URL")?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // With WAL, NORMAL is durable across application crashes and much faster than FULL.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    // Created here as 0600 rather than by SQLite under the umask: SQLite gives the -wal and
    // -shm files the database file's mode.
    let file = options.get_filename().to_owned();
    let on_disk = file.as_os_str() != ":memory:" && !file.as_os_str().is_empty();
    if on_disk {
        crate::private_files::create_private_file(&file)
            .with_context(|| format!("could not create the database file {}", file.display()))?;
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        // sqlx pings a connection each time it leaves the pool, by default: a round trip to the
        // connection's SQLite thread, to learn whether a network peer hung up. An SQLite
        // connection has no peer, and the hand-over was a third of a signed-in page's trips
        // to the database threads (see scripts/bench, gallery under load).
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .with_context(|| format!("could not open the SQLite database at {database_url}"))?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .context("could not apply database migrations")?;
    if on_disk {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = file.clone().into_os_string();
            path.push(suffix);
            if let Err(e) = crate::private_files::restrict(Path::new(&path), 0o600, "the database")
            {
                tracing::warn!(path = %Path::new(&path).display(), error = %e, "could not make a database file private");
            }
        }
    }
    Ok(pool)
}

/// Begins a transaction that writes. `BEGIN IMMEDIATE` takes SQLite's write lock at the start,
/// where the busy timeout applies; a plain (deferred) transaction that reads and then writes
/// can fail at once with "database is locked" when another connection wrote in between, which
/// is what happened when several jobs finished together.
pub async fn begin_write(
    db: &SqlitePool,
) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// Whether the database answers (the health check).
pub async fn ping(db: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(db)
        .await
        .map(|_| ())
}

/// Writes a consistent copy of the whole database to `path` (`VACUUM INTO`), safe while the
/// server runs; fails when `path` exists.
pub async fn copy_into(db: &SqlitePool, path: &str) -> Result<(), sqlx::Error> {
    sqlx::query("VACUUM INTO ?")
        .bind(path)
        .execute(db)
        .await
        .map(|_| ())
}
