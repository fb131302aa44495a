//! The `sessions` table, behind tower-sessions' `SessionStore`: the one place its SQL lives.
//!
//! - Rows are keyed by a SHA-256 of the cookie's session id, so the database never holds a
//!   value that signs anyone in.
//! - Each row names its user, so every session of an account ends in one statement (sign out
//!   everywhere, a password change, the admin's reset).
//! - A session lives at most [`ABSOLUTE_LIFETIME`] from sign-in, however active: the store
//!   caps the expiry tower-sessions asks for (which moves with activity).
//!
//! Ending sessions is announced on a broadcast channel so a live event stream of an ended
//! session closes at once; streams also re-check now and then, for sessions ended by another
//! process (the admin command).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::sync::broadcast;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

use super::session::{SEEN_ON_KEY, USER_ID_KEY};
use crate::{
    db::{Db, Engine, with_db},
    users::{self, UserRow},
};

/// However active, a session ends this long after sign-in.
pub const ABSOLUTE_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// A session or all of one user's sessions ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Session(SessionKey),
    User(String),
}

impl Ended {
    /// Whether this ends the session `key` of `user_id`.
    pub fn ends(&self, key: &SessionKey, user_id: &str) -> bool {
        match self {
            Ended::Session(ended) => ended == key,
            Ended::User(ended) => ended == user_id,
        }
    }
}

/// The stored key of a session: the hex SHA-256 of its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey(String);

impl SessionKey {
    pub fn of(id: &Id) -> Self {
        SessionKey(crate::storage::hex(&Sha256::digest(
            id.to_string().as_bytes(),
        )))
    }
}

#[derive(Clone)]
pub struct SqlSessionStore {
    db: Db,
    ended: broadcast::Sender<Ended>,
    recent: Arc<Mutex<Recent>>,
}

/// How long a session's user, once read, answers without asking the database again. Within
/// this process every change that matters drops the copy at once (a session ended or saved,
/// a user's row changed); this bounds only what another process does: a session ended by the
/// admin command stops working within this time.
const RECENT_FOR: Duration = Duration::from_secs(1);

/// At most this many sessions are remembered; past it, the stale ones are dropped, and when
/// none are, all of them (the next request of each reads the database again).
const RECENT_MAX: usize = 10_000;

/// Sessions' users read in the last [`RECENT_FOR`]: a signed-in request's one database round
/// trip (session and user), which under load was a third of a gallery page's CPU time.
#[derive(Default)]
struct Recent {
    users: HashMap<SessionKey, RecentUser>,
    /// Counts forgets: a read that started before one may have seen the forgotten session,
    /// and is not remembered.
    forgets: u64,
}

struct RecentUser {
    signed_in: SignedIn,
    read_at: Instant,
    /// `users::rows_changed()` before the read: any change since makes the copy stale.
    users_version: u64,
}

impl Recent {
    fn get(&self, key: &SessionKey) -> Option<SignedIn> {
        let found = self.users.get(key)?;
        (found.read_at.elapsed() < RECENT_FOR && found.users_version == users::rows_changed())
            .then(|| found.signed_in.clone())
    }

    /// Remembers what a read that began at `began` found, unless something was forgotten
    /// since it began.
    fn put(&mut self, key: SessionKey, signed_in: SignedIn, began: ReadBegan) {
        if self.forgets != began.forgets {
            return;
        }
        if self.users.len() >= RECENT_MAX {
            self.users.retain(|_, r| r.read_at.elapsed() < RECENT_FOR);
            if self.users.len() >= RECENT_MAX {
                self.users.clear();
            }
        }
        let remembered = RecentUser {
            signed_in,
            read_at: began.at,
            users_version: began.users_version,
        };
        self.users.insert(key, remembered);
    }

    fn began(&self) -> ReadBegan {
        ReadBegan {
            at: Instant::now(),
            users_version: users::rows_changed(),
            forgets: self.forgets,
        }
    }

    fn forget(&mut self, ended: &Ended) {
        self.forgets += 1;
        match ended {
            Ended::Session(key) => {
                self.users.remove(key);
            }
            Ended::User(user_id) => self.users.retain(|_, r| r.signed_in.user.id != *user_id),
        }
    }
}

/// When a database read of a session began, as [`Recent::put`] needs it.
struct ReadBegan {
    at: Instant,
    users_version: u64,
    forgets: u64,
}

impl std::fmt::Debug for SqlSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqlSessionStore")
    }
}

impl SqlSessionStore {
    pub fn new(db: Db) -> Self {
        let (ended, _) = broadcast::channel(256);
        SqlSessionStore {
            db,
            ended,
            recent: Arc::default(),
        }
    }

    /// Announcements of ended sessions, for live streams to close themselves.
    pub fn subscribe(&self) -> broadcast::Receiver<Ended> {
        self.ended.subscribe()
    }

    /// Whether the session is still stored and unexpired.
    pub async fn is_live(&self, key: &SessionKey) -> sqlx::Result<bool> {
        let found: Option<i64> = with_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT) FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(&key.0)
        .bind(unix_now())
        .fetch_optional(pool)
        .await)?;
        Ok(found.is_some())
    }

    /// The user the live session `key` is signed in as, and the day it was last seen, in one
    /// round trip: a signed-in request used to cost two (the session, then its user), each a
    /// hand-over to a database thread. The user's columns are `users.rs`'s list, read through
    /// the `sessions.user_id` reference.
    pub async fn signed_in(&self, key: &SessionKey) -> sqlx::Result<Option<SignedIn>> {
        // On Postgres other nodes end sessions and change users, and a copy here would not
        // hear of it: a sign-out on one node must hold at once on the next request to another.
        if self.db.engine() == Engine::Postgres {
            return self.read_signed_in(key).await;
        }
        let began = {
            let recent = self.recent();
            if let Some(signed_in) = recent.get(key) {
                return Ok(Some(signed_in));
            }
            recent.began()
        };
        let found = self.read_signed_in(key).await?;
        if let Some(signed_in) = &found {
            self.recent().put(key.clone(), signed_in.clone(), began);
        }
        Ok(found)
    }

    /// The recent sessions, however a panic elsewhere left them: they are only copies.
    fn recent(&self) -> std::sync::MutexGuard<'_, Recent> {
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Announces an ended session (or all of a user's) and drops its remembered copy.
    fn announce(&self, ended: Ended) {
        self.recent().forget(&ended);
        let _ = self.ended.send(ended);
    }

    async fn read_signed_in(&self, key: &SessionKey) -> sqlx::Result<Option<SignedIn>> {
        // Each engine reads the JSON `data` its own way. On Postgres `session_user` is a
        // built-in (the role), so that statement joins the tables directly.
        static SQLITE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "/* sqlite */ SELECT {columns}, seen_on FROM users JOIN \
                 (SELECT user_id AS session_user, json_extract(data, '$.{SEEN_ON_KEY}') AS seen_on \
                  FROM sessions WHERE id_hash = $1 AND expires_at > $2) ON id = session_user",
                columns = users::COLUMNS
            )
        });
        static POSTGRES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "/* postgres */ SELECT {columns}, (s.data::jsonb ->> '{SEEN_ON_KEY}') AS seen_on \
                 FROM sessions s JOIN users ON users.id = s.user_id \
                 WHERE s.id_hash = $1 AND s.expires_at > $2",
                columns = users::COLUMNS
            )
        });
        let sql = match self.db.engine() {
            Engine::Sqlite => SQLITE.as_str(),
            Engine::Postgres => POSTGRES.as_str(),
        };
        with_db!(&self.db, pool => sqlx::query_as(sql)
            .bind(&key.0)
            .bind(unix_now())
            .fetch_optional(pool)
            .await)
    }

    /// Ends every session of `user_id` (a password change then signs its own session in again
    /// under a new id). Returns how many ended.
    pub async fn end_all_of(&self, user_id: &str) -> sqlx::Result<u64> {
        let ended = with_db!(&self.db, pool => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?;
        self.announce(Ended::User(user_id.to_owned()));
        Ok(ended)
    }
}

/// Who a session is signed in as, from [`SqlSessionStore::signed_in`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignedIn {
    #[sqlx(flatten)]
    pub user: UserRow,
    /// The UTC day (`YYYY-MM-DD`) the session was last used, when noted.
    pub seen_on: Option<String>,
}

fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn to_store_error(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh random 128-bit id practically never collides; if it does, draw another.
        loop {
            let key = SessionKey::of(&record.id);
            let data = serde_json::to_string(&record.data).map_err(to_store_error)?;
            let now = unix_now();
            let expires = record
                .expiry_date
                .unix_timestamp()
                .min(now + ABSOLUTE_LIFETIME.as_secs() as i64);
            let inserted = with_db!(&self.db, pool => sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, data, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id_hash) DO NOTHING",
            )
            .bind(&key.0)
            .bind(user_of(&record.data))
            .bind(data)
            .bind(now)
            .bind(expires)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
            .map_err(to_store_error)?;
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // Its user or its last-seen day may change: the next request reads it afresh (and a
        // read that overlaps the write is not remembered).
        let key = Ended::Session(SessionKey::of(&record.id));
        self.recent().forget(&key);
        let data = serde_json::to_string(&record.data).map_err(to_store_error)?;
        let now = unix_now();
        // The smaller of two values: SQLite's two-argument MIN, Postgres's LEAST (whose
        // untyped parameters need their type spelt out).
        let sql = match self.db.engine() {
            Engine::Sqlite => {
                "/* sqlite */ INSERT INTO sessions (id_hash, user_id, data, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, MIN($5, $4 + $6)) \
                 ON CONFLICT (id_hash) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
                 expires_at = MIN($5, sessions.created_at + $6)"
            }
            Engine::Postgres => {
                "/* postgres */ INSERT INTO sessions (id_hash, user_id, data, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, LEAST($5::bigint, $4::bigint + $6::bigint)) \
                 ON CONFLICT (id_hash) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
                 expires_at = LEAST($5::bigint, sessions.created_at + $6::bigint)"
            }
        };
        with_db!(&self.db, pool => sqlx::query(sql)
            .bind(SessionKey::of(&record.id).0)
            .bind(user_of(&record.data))
            .bind(data)
            .bind(now)
            .bind(record.expiry_date.unix_timestamp())
            .bind(ABSOLUTE_LIFETIME.as_secs() as i64)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(to_store_error)?;
        self.recent().forget(&key);
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> = with_db!(&self.db, pool => sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(SessionKey::of(session_id).0)
        .bind(unix_now())
        .fetch_optional(pool)
        .await)
        .map_err(to_store_error)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let data: HashMap<String, Value> = serde_json::from_str(&data).map_err(to_store_error)?;
        Ok(Some(Record {
            id: *session_id,
            data,
            expiry_date: OffsetDateTime::from_unix_timestamp(expires_at).map_err(to_store_error)?,
        }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let key = SessionKey::of(session_id);
        with_db!(&self.db, pool => sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(&key.0)
            .execute(pool)
            .await
            .map(|_| ()))
        .map_err(to_store_error)?;
        self.announce(Ended::Session(key));
        Ok(())
    }
}

impl SqlSessionStore {
    /// Removes expired sessions every `period`, for as long as the server runs (they are
    /// already refused when loaded; this only keeps the table small).
    pub async fn sweep_expired_forever(self, period: Duration) {
        let mut every = tokio::time::interval(period);
        loop {
            every.tick().await;
            let swept = with_db!(&self.db, pool => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(unix_now())
                .execute(pool)
                .await
                .map(|_| ()));
            if let Err(e) = swept {
                tracing::warn!(error = %e, "could not remove expired sessions; trying again later");
            }
        }
    }
}

fn user_of(data: &HashMap<String, Value>) -> Option<&str> {
    data.get(USER_ID_KEY).and_then(Value::as_str)
}

/// How often a live stream asks whether its session still exists, for sessions ended by
/// another process; in this process the broadcast says so at once.
const RECHECK_EVERY: Duration = Duration::from_secs(30);

impl SqlSessionStore {
    /// Resolves when the session `key` of `user_id` ends: signed out, ended everywhere, reset,
    /// or expired.
    pub fn ended(
        &self,
        key: SessionKey,
        user_id: String,
    ) -> impl Future<Output = ()> + Send + 'static + use<> {
        let mut announcements = self.subscribe();
        let store = self.clone();
        async move {
            let mut recheck = tokio::time::interval(RECHECK_EVERY);
            recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            recheck.tick().await;
            loop {
                tokio::select! {
                    announcement = announcements.recv() => match announcement {
                        Ok(ended) if ended.ends(&key, &user_id) => return,
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            if matches!(store.is_live(&key).await, Ok(false)) {
                                return;
                            }
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    _ = recheck.tick() => {
                        // A database hiccup keeps the stream; only a known-ended session ends it.
                        if matches!(store.is_live(&key).await, Ok(false)) {
                            return;
                        }
                    }
                }
            }
        }
    }
}
