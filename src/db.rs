//! The database: SQLite (the default: one node, one file) or Postgres (several nodes), chosen by
//! `DATABASE_URL`, with each engine's migrations applied at start-up.
//!
//! The stores own all SQL. Where a statement means the same on both engines it is written once
//! and run on either through [`with_db!`]/[`with_tx!`], which compile the statement's code once per
//! engine, so binds and rows stay fully typed on both. The portable dialect: `$1, $2, …`
//! placeholders (SQLite reads them too), `TRUE`/`FALSE`, `CAST(… AS BIGINT)` around sums,
//! `ON CONFLICT` and `RETURNING`. Where the engines differ (time, JSON, full-text search, locking)
//! a store asks [`Db::engine`] and writes each engine's statement side by side.

use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    PgPool, Postgres, Sqlite, SqlitePool,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The SQL for "now" as every timestamp column stores it: UTC, milliseconds, ISO 8601
    /// (`2026-12-04T03:22:51.123Z`). Text on both engines, so it sorts and reads the same.
    pub fn now(self) -> &'static str {
        match self {
            Engine::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ','now')",
            // Defined by the first Postgres migration.
            Engine::Postgres => "studio_now()",
        }
    }

    /// The engine a `DATABASE_URL` names, if any.
    pub fn of_url(url: &str) -> Option<Engine> {
        if url.starts_with("sqlite:") {
            Some(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Engine::Postgres)
        } else {
            None
        }
    }
}

/// A pool of connections to the studio's database.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// A write transaction on either engine (see [`begin_write`]).
#[derive(Debug)]
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    pub fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

/// Where a statement that may run either alone or inside a transaction runs.
#[derive(Debug)]
pub enum Conn<'a> {
    Pool(&'a Db),
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Db> for Conn<'a> {
    fn from(db: &'a Db) -> Self {
        Conn::Pool(db)
    }
}

impl<'a> From<&'a mut Tx> for Conn<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        Conn::Tx(tx)
    }
}

impl Conn<'_> {
    pub fn engine(&self) -> Engine {
        match self {
            Conn::Pool(db) => db.engine(),
            Conn::Tx(tx) => tx.engine(),
        }
    }
}

/// Runs `$body` with `$pool` bound to the engine's own pool (`&SqlitePool` or `&PgPool`). The
/// body is compiled once per engine: one statement text, typed binds and rows on both.
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// [`with_db!`] for a transaction: `$conn` is the engine's own connection
/// (`&mut SqliteConnection` or `&mut PgConnection`); reborrow it (`&mut *$conn`) to run more
/// than one statement.
macro_rules! with_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::db::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// [`with_db!`] for a [`Conn`]: the body runs on a pool or a transaction's connection.
macro_rules! with_conn {
    ($conn:expr, $exec:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Pool($crate::db::Db::Sqlite($exec)) => $body,
            $crate::db::Conn::Pool($crate::db::Db::Postgres($exec)) => $body,
            $crate::db::Conn::Tx($crate::db::Tx::Sqlite(tx)) => {
                let $exec = &mut **tx;
                $body
            }
            $crate::db::Conn::Tx($crate::db::Tx::Postgres(tx)) => {
                let $exec = &mut **tx;
                $body
            }
        }
    };
}

pub(crate) use {with_conn, with_db, with_tx};

/// Opens the database `database_url` names and applies its engine's migrations.
pub async fn connect(database_url: &str) -> anyhow::Result<Db> {
    match Engine::of_url(database_url) {
        Some(Engine::Postgres) => connect_postgres(database_url).await.map(Db::Postgres),
        _ => connect_sqlite(database_url).await.map(Db::Sqlite),
    }
}

async fn connect_sqlite(database_url: &str) -> anyhow::Result<SqlitePool> {
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
    sqlx::migrate!("./migrations/sqlite")
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

async fn connect_postgres(database_url: &str) -> anyhow::Result<PgPool> {
    let where_ = crate::config::redact_url(database_url);
    let options = PgConnectOptions::from_str(database_url)
        .with_context(|| format!("DATABASE_URL ({where_}) is not a valid Postgres URL"))?
        .application_name("fal-studio");
    let pool = PgPoolOptions::new()
        .max_connections(16)
        // A node that cannot reach the database answers 503 within seconds rather than
        // holding requests.
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .with_context(|| format!("could not connect to the Postgres database at {where_}"))?;
    // sqlx holds an advisory lock while it migrates, so nodes starting together take turns.
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .context("could not apply database migrations")?;
    Ok(pool)
}

/// `t` as the timestamp columns store it on both engines (`2026-12-04T03:22:51.123Z`: UTC,
/// milliseconds), for bounds computed here rather than by the database.
pub fn timestamp_text(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Begins a transaction that writes. On SQLite, `BEGIN IMMEDIATE` takes the write lock at the
/// start, where the busy timeout applies; a plain (deferred) transaction that reads and then
/// writes can fail at once with "database is locked" when another connection wrote in between,
/// which is what happened when several jobs finished together. On Postgres a plain `BEGIN`:
/// statements that must not race lock the rows they read (`FOR UPDATE`).
pub async fn begin_write(db: &Db) -> Result<Tx, sqlx::Error> {
    Ok(match db {
        Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
    })
}

/// Whether the database answers (the health check).
pub async fn ping(db: &Db) -> Result<(), sqlx::Error> {
    with_db!(db, pool => sqlx::query_scalar::<_, i64>("SELECT CAST(1 AS BIGINT)")
        .fetch_one(pool)
        .await
        .map(|_| ()))
}

/// Writes a consistent copy of a SQLite database to `path` (`VACUUM INTO`), safe while the
/// server runs; fails when `path` exists.
pub async fn copy_into(db: &SqlitePool, path: &str) -> Result<(), sqlx::Error> {
    sqlx::query("/* sqlite */ VACUUM INTO $1")
        .bind(path)
        .execute(db)
        .await
        .map(|_| ())
}
