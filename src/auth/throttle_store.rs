//! The `throttles` table: the counters behind the guessing and sign-up limits of
//! [`super::throttle`]. The one place its SQL lives.
//!
//! A row is one counter: `scope` names its rule, `key` what it counts, `attempts` how many were
//! taken in the window that ends at `resets_at`. A window that has passed counts as empty: the
//! next take starts a new one, and the sweep deletes it.
//!
//! **Clock.** Windows are measured by the database's clock (unix milliseconds), never a node's:
//! every node then agrees on when a window ends. With each node's own clock, a node whose clock
//! ran minutes ahead would find everyone's windows over and start them afresh (forgiving
//! guesses), and one running behind would hold people out longer than the rule says.
//!
//! **Atomic.** Several counters are taken together or not at all, in one short write
//! transaction: one upsert takes a step on every counter and returns the new counts; if any is
//! past its limit the transaction rolls back, so a refused request leaves nothing behind and a
//! request that is let through was counted before it is judged. SQLite's `BEGIN IMMEDIATE`
//! serialises those transactions; on Postgres the upsert's row locks do, held until the commit
//! or rollback, so a parallel request for the same counter waits and then sees the new count.
//! Every statement that locks several rows locks them in one order (the upsert takes its
//! `VALUES` in order: pair, address, subject), so two of them cannot deadlock; the sweep skips
//! locked rows rather than waiting for them.

use std::time::Duration;

use crate::db::{self, Db, Engine, Tx, with_db, with_tx};

/// Which rule a counter counts for. Login and share-link guesses keep apart counters, as they
/// always did: guessing share links does not use up an address's sign-in attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    LoginPair,
    LoginAddress,
    LoginSubject,
    SharePair,
    ShareAddress,
    ShareSubject,
    SignupAddress,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::LoginPair => "login:pair",
            Scope::LoginAddress => "login:address",
            Scope::LoginSubject => "login:subject",
            Scope::SharePair => "share:pair",
            Scope::ShareAddress => "share:address",
            Scope::ShareSubject => "share:subject",
            Scope::SignupAddress => "signup:address",
        }
    }
}

/// One counter a request takes a step on: at most `max` per `window`.
#[derive(Debug, Clone)]
pub struct Counter {
    pub scope: Scope,
    pub key: String,
    pub max: u32,
    pub window: Duration,
}

/// Unix milliseconds by the database's clock. Repeated in each statement below (one per
/// engine) rather than passed from Rust: see the module's note on clocks.
const SQLITE_NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
const POSTGRES_NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

/// Takes one step on each of three counters, or on none when any of them is at its limit:
/// `Err(seconds until the last of the full ones resets)` then.
pub async fn take_all(db: &Db, counters: &[Counter; 3]) -> sqlx::Result<Result<(), u64>> {
    // Each row: a new window starting now, or a step on the current one, or a new window when
    // the stored one has passed. `RETURNING` names the scope, for its rows come in no promised
    // order.
    let sql = match db.engine() {
        Engine::Sqlite => format!(
            "/* sqlite */ INSERT INTO throttles (scope, key, attempts, resets_at) \
             VALUES ($1, $2, 1, {SQLITE_NOW_MS} + $3), ($4, $5, 1, {SQLITE_NOW_MS} + $6), \
             ($7, $8, 1, {SQLITE_NOW_MS} + $9) \
             ON CONFLICT (scope, key) DO UPDATE SET \
             attempts = CASE WHEN throttles.resets_at <= {SQLITE_NOW_MS} THEN 1 \
             ELSE throttles.attempts + 1 END, \
             resets_at = CASE WHEN throttles.resets_at <= {SQLITE_NOW_MS} THEN excluded.resets_at \
             ELSE throttles.resets_at END \
             RETURNING scope, attempts, resets_at - {SQLITE_NOW_MS}"
        ),
        Engine::Postgres => format!(
            "/* postgres */ INSERT INTO throttles (scope, key, attempts, resets_at) \
             VALUES ($1, $2, 1, {POSTGRES_NOW_MS} + $3), ($4, $5, 1, {POSTGRES_NOW_MS} + $6), \
             ($7, $8, 1, {POSTGRES_NOW_MS} + $9) \
             ON CONFLICT (scope, key) DO UPDATE SET \
             attempts = CASE WHEN throttles.resets_at <= {POSTGRES_NOW_MS} THEN 1 \
             ELSE throttles.attempts + 1 END, \
             resets_at = CASE WHEN throttles.resets_at <= {POSTGRES_NOW_MS} \
             THEN excluded.resets_at ELSE throttles.resets_at END \
             RETURNING scope, attempts, resets_at - {POSTGRES_NOW_MS}"
        ),
    };
    let [a, b, c] = counters;
    let mut tx = db::begin_write(db).await?;
    let rows: Vec<(String, i64, i64)> = with_tx!(&mut tx, conn => sqlx::query_as(&sql)
        .bind(a.scope.as_str())
        .bind(&a.key)
        .bind(millis(a.window))
        .bind(b.scope.as_str())
        .bind(&b.key)
        .bind(millis(b.window))
        .bind(c.scope.as_str())
        .bind(&c.key)
        .bind(millis(c.window))
        .fetch_all(conn)
        .await)?;
    let wait = rows
        .iter()
        .filter_map(|(scope, attempts, resets_in_ms)| {
            let counter = counters.iter().find(|c| c.scope.as_str() == scope)?;
            (*attempts > i64::from(counter.max)).then(|| wait_secs(*resets_in_ms))
        })
        .max();
    match wait {
        None => {
            tx.commit().await?;
            Ok(Ok(()))
        }
        Some(wait) => {
            // Awaited rather than left to the drop, so the row locks are released before
            // the refusal is answered.
            rollback(tx).await?;
            Ok(Err(wait))
        }
    }
}

/// Takes one step on a single counter: `Err(seconds to wait)` when that step is past its
/// limit. One statement, atomic by itself. A refused step is counted too, which changes
/// nothing: the window does not move, and the count only says "full" until it ends.
pub async fn take_one(db: &Db, counter: &Counter) -> sqlx::Result<Result<(), u64>> {
    let sql = match db.engine() {
        Engine::Sqlite => format!(
            "/* sqlite */ INSERT INTO throttles (scope, key, attempts, resets_at) \
             VALUES ($1, $2, 1, {SQLITE_NOW_MS} + $3) \
             ON CONFLICT (scope, key) DO UPDATE SET \
             attempts = CASE WHEN throttles.resets_at <= {SQLITE_NOW_MS} THEN 1 \
             ELSE throttles.attempts + 1 END, \
             resets_at = CASE WHEN throttles.resets_at <= {SQLITE_NOW_MS} THEN excluded.resets_at \
             ELSE throttles.resets_at END \
             RETURNING attempts, resets_at - {SQLITE_NOW_MS}"
        ),
        Engine::Postgres => format!(
            "/* postgres */ INSERT INTO throttles (scope, key, attempts, resets_at) \
             VALUES ($1, $2, 1, {POSTGRES_NOW_MS} + $3) \
             ON CONFLICT (scope, key) DO UPDATE SET \
             attempts = CASE WHEN throttles.resets_at <= {POSTGRES_NOW_MS} THEN 1 \
             ELSE throttles.attempts + 1 END, \
             resets_at = CASE WHEN throttles.resets_at <= {POSTGRES_NOW_MS} \
             THEN excluded.resets_at ELSE throttles.resets_at END \
             RETURNING attempts, resets_at - {POSTGRES_NOW_MS}"
        ),
    };
    let (attempts, resets_in_ms): (i64, i64) = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(counter.scope.as_str())
        .bind(&counter.key)
        .bind(millis(counter.window))
        .fetch_one(pool)
        .await)?;
    Ok(if attempts > i64::from(counter.max) {
        Err(wait_secs(resets_in_ms))
    } else {
        Ok(())
    })
}

/// After a right password: `cleared` counters start afresh, and `refunded` gets its step back.
/// One statement, locking its rows in the order given, which must be the order [`take_all`]
/// took them in (pair, address, subject) so the two cannot deadlock. A row that is missing
/// (swept meanwhile) is written as already reset, and swept again.
pub async fn settle(
    db: &Db,
    [first, second, third]: [&Counter; 3],
    refunded: Scope,
) -> sqlx::Result<()> {
    const SETTLE: &str = "INSERT INTO throttles (scope, key, attempts, resets_at) \
         VALUES ($1, $2, 0, 0), ($3, $4, 0, 0), ($5, $6, 0, 0) \
         ON CONFLICT (scope, key) DO UPDATE SET \
         attempts = CASE WHEN throttles.scope <> $7 THEN 0 \
         WHEN throttles.attempts > 0 THEN throttles.attempts - 1 ELSE 0 END, \
         resets_at = CASE WHEN throttles.scope <> $7 THEN 0 ELSE throttles.resets_at END";
    with_db!(db, pool => sqlx::query(SETTLE)
        .bind(first.scope.as_str())
        .bind(&first.key)
        .bind(second.scope.as_str())
        .bind(&second.key)
        .bind(third.scope.as_str())
        .bind(&third.key)
        .bind(refunded.as_str())
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Rows deleted per statement, so one sweep never holds SQLite's write lock for long.
const SWEEP_BATCH: i64 = 1000;

/// Deletes the counters whose window has passed (they count as empty anyway); returns how many.
pub async fn sweep(db: &Db) -> sqlx::Result<u64> {
    let sql = match db.engine() {
        Engine::Sqlite => format!(
            "/* sqlite */ DELETE FROM throttles WHERE (scope, key) IN \
             (SELECT scope, key FROM throttles WHERE resets_at <= {SQLITE_NOW_MS} LIMIT $1)"
        ),
        // A row locked by a take in flight is being renewed: skipped, not waited for.
        Engine::Postgres => format!(
            "/* postgres */ DELETE FROM throttles WHERE (scope, key) IN \
             (SELECT scope, key FROM throttles WHERE resets_at <= {POSTGRES_NOW_MS} \
             LIMIT $1 FOR UPDATE SKIP LOCKED)"
        ),
    };
    let mut total = 0;
    loop {
        let deleted = with_db!(db, pool => sqlx::query(&sql)
            .bind(SWEEP_BATCH)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        total += deleted;
        if deleted < SWEEP_BATCH as u64 {
            return Ok(total);
        }
    }
}

async fn rollback(tx: Tx) -> sqlx::Result<()> {
    match tx {
        Tx::Sqlite(tx) => tx.rollback().await,
        Tx::Postgres(tx) => tx.rollback().await,
    }
}

fn millis(window: Duration) -> i64 {
    i64::try_from(window.as_millis()).unwrap_or(i64::MAX)
}

/// Whole seconds until a window ends, rounded up (a client told to come back sooner would only
/// be refused again), and at least one.
fn wait_secs(resets_in_ms: i64) -> u64 {
    u64::try_from(resets_in_ms)
        .unwrap_or(0)
        .div_ceil(1000)
        .max(1)
}
