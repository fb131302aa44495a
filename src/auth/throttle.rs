//! Slows password guessing, for logins and for password-protected share links alike, and
//! limits sign-ups per address.
//!
//! An attempt is *reserved* before the password is checked, atomically, so a burst of parallel
//! guesses is counted as it arrives instead of after argon2 has judged each one: at most the
//! limit is ever evaluated. Three counters, combined, decide:
//!
//! - **subject + address** (an email or a share link, from one client address): 5 per 15
//!   minutes. This is the limit a guesser meets first.
//! - **address** (across every subject): 20 per 15 minutes, so one address cannot try many
//!   accounts. It only ever blocks that address.
//! - **subject** (from every address): 10 per 5 minutes, so guessing spread over many addresses
//!   is slowed too. Its window is short on purpose: anyone can hit it for a victim's email, and
//!   it must not keep that person out for long.
//!
//! A reservation takes a step on all three or, when any is at its limit, on none. A right
//! password clears the subject's counters and refunds its address attempt, so only failures
//! (and attempts still in flight) count.
//!
//! The counters live in the database (`throttles`, see [`super::throttle_store`]), so every
//! node behind a load balancer shares them and a restart forgives nothing. Only sign-in,
//! password change, share-password and sign-up requests touch them, with one short write each.
//! Subjects are stored as an HMAC-SHA256 under a key derived from `APP_SECRET` only: the table
//! holds no share token (a bearer secret) and no email list, nor hashes one could test a list of
//! emails against without the secret.
//!
//! The table stays bounded: a refused reservation writes nothing, a granted one at most three
//! rows, and at most [`PER_ADDRESS`]`.max` are granted per address and window; rows whose window
//! has passed are deleted by each limiter at most every [`SWEEP_EVERY`], after a request, so
//! the table holds the rows of the last window (an hour, for sign-ups) and a little more.

use std::{
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

use super::throttle_store::{self as store, Counter, Scope};
use crate::db::Db;

/// One counter's rule: at most `max` attempts per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub max: u32,
    pub window: Duration,
}

pub const PER_SUBJECT_AND_ADDRESS: Rule = Rule {
    max: 5,
    window: Duration::from_secs(15 * 60),
};
pub const PER_ADDRESS: Rule = Rule {
    max: 20,
    window: Duration::from_secs(15 * 60),
};
pub const PER_SUBJECT: Rule = Rule {
    max: 10,
    window: Duration::from_secs(5 * 60),
};
/// How often one limiter deletes the counters whose window has passed.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// What is being guessed: each has counters of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guessed {
    /// Account passwords (sign-in, password change); the subject is the email.
    Logins,
    /// Share-link passwords; the subject is the link's token.
    ShareLinks,
}

impl Guessed {
    fn scopes(self) -> [Scope; 3] {
        match self {
            Guessed::Logins => [Scope::LoginPair, Scope::LoginAddress, Scope::LoginSubject],
            Guessed::ShareLinks => [Scope::SharePair, Scope::ShareAddress, Scope::ShareSubject],
        }
    }
}

/// The counters one guess at `subject` from `addr` takes a step on, in the order they are
/// locked: pair, address, subject.
fn counters(guessed: Guessed, subject_key: &[u8; 32], subject: &str, addr: IpAddr) -> [Counter; 3] {
    let [pair, address, subject_scope] = guessed.scopes();
    let subject = subject_hash(subject_key, subject);
    [
        Counter {
            scope: pair,
            key: format!("{subject} {addr}"),
            max: PER_SUBJECT_AND_ADDRESS.max,
            window: PER_SUBJECT_AND_ADDRESS.window,
        },
        Counter {
            scope: address,
            key: addr.to_string(),
            max: PER_ADDRESS.max,
            window: PER_ADDRESS.window,
        },
        Counter {
            scope: subject_scope,
            key: subject,
            max: PER_SUBJECT.max,
            window: PER_SUBJECT.window,
        },
    ]
}

/// How a subject (an email, a link's token) is named in the `throttles` table: HMAC-SHA256 under
/// a key derived from `APP_SECRET`, so the table (or a backup of it) cannot be tested against a
/// list of likely emails, while every node that shares the secret names a subject alike.
fn subject_hash(subject_key: &[u8; 32], subject: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(subject_key).expect("HMAC takes a key of any length");
    mac.update(subject.as_bytes());
    crate::storage::hex(&mac.finalize().into_bytes())
}

/// Guessing limits for one kind of password (see the module's doc).
pub struct GuessLimiter {
    guessed: Guessed,
    subject_key: [u8; 32],
    sweeper: Sweeper,
}

impl GuessLimiter {
    /// For account passwords: sign-in and password change.
    pub fn for_logins(secret: &Secret) -> Self {
        Self::new(Guessed::Logins, secret)
    }

    /// For the passwords of share links.
    pub fn for_share_links(secret: &Secret) -> Self {
        Self::new(Guessed::ShareLinks, secret)
    }

    fn new(guessed: Guessed, secret: &Secret) -> Self {
        GuessLimiter {
            guessed,
            subject_key: crate::app_secret::subkey(secret, "throttle subjects v1"),
            sweeper: Sweeper::default(),
        }
    }

    /// Reserves one attempt at `subject` from `addr`, or `Err(seconds to wait)` when any of the
    /// three counters is at its limit (nothing is counted then). A database error refuses too
    /// (as an error): a guess the limiter could not count is not judged.
    pub async fn reserve(
        &self,
        db: &Db,
        subject: &str,
        addr: IpAddr,
    ) -> sqlx::Result<Result<Attempt, u64>> {
        let counters = counters(self.guessed, &self.subject_key, subject, addr);
        let taken = store::take_all(db, &counters).await?;
        self.sweeper.after_request(db);
        Ok(taken.map(|()| Attempt {
            db: db.clone(),
            counters,
        }))
    }
}

/// A reserved attempt. Say how it went with [`Attempt::succeeded`]; dropping it otherwise
/// leaves it counted, as a failure.
#[must_use = "an attempt counts as failed unless `succeeded` is called"]
pub struct Attempt {
    db: Db,
    counters: [Counter; 3],
}

impl Attempt {
    /// The right password: the subject starts afresh, and the address gets its attempt back
    /// (one right password must not reset a guessing run against other subjects, though).
    /// A failure to write that is logged, not returned: the password was right, and the
    /// counters only stay as they were.
    pub async fn succeeded(self) {
        let [pair, address, subject] = &self.counters;
        if let Err(e) = store::settle(&self.db, [pair, address, subject], address.scope).await {
            tracing::warn!(error = %e, "could not reset the guessing counters after a right password");
        }
    }
}

/// At most `max` uses per client address per `window` (sign-ups), taken atomically.
pub struct AddressQuota {
    rule: Rule,
    sweeper: Sweeper,
}

impl AddressQuota {
    pub fn new(max: u32, window: Duration) -> Self {
        AddressQuota {
            rule: Rule { max, window },
            sweeper: Sweeper::default(),
        }
    }

    /// Takes one use for `addr`, or `Err(seconds to wait)`.
    pub async fn take(&self, db: &Db, addr: IpAddr) -> sqlx::Result<Result<(), u64>> {
        let counter = Counter {
            scope: Scope::SignupAddress,
            key: addr.to_string(),
            max: self.rule.max,
            window: self.rule.window,
        };
        let taken = store::take_one(db, &counter).await?;
        self.sweeper.after_request(db);
        Ok(taken)
    }
}

/// Deletes passed windows now and then, on the heels of the requests that make rows: an idle
/// studio makes none, so it needs no timer.
#[derive(Default)]
struct Sweeper {
    last: Mutex<Option<Instant>>,
}

impl Sweeper {
    /// Starts a sweep in the background when this limiter has not swept for [`SWEEP_EVERY`];
    /// the request does not wait for it.
    fn after_request(&self, db: &Db) {
        let now = Instant::now();
        {
            // A panic while holding the lock leaves only a time behind: still usable.
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|last| now.saturating_duration_since(last) < SWEEP_EVERY) {
                return;
            }
            *last = Some(now);
        }
        let db = db.clone();
        tokio::spawn(async move {
            match store::sweep(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(deleted = n, "swept passed guessing and sign-up windows"),
                Err(e) => {
                    tracing::warn!(error = %e, "could not delete passed guessing windows; trying again later")
                }
            }
        });
    }
}

/// `"N seconds"` or `"N minutes"`, for messages that say how long to wait.
pub fn human_wait(secs: u64) -> String {
    if secs < 60 {
        format!("{secs} second{}", if secs == 1 { "" } else { "s" })
    } else {
        let mins = secs.div_ceil(60);
        format!("{mins} minute{}", if mins == 1 { "" } else { "s" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const ADDR: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn counters_name_subjects_by_hash_and_addresses_as_text() {
        let key = [7u8; 32];
        let [pair, address, subject] = counters(Guessed::ShareLinks, &key, "SeCrEtToKeN", ADDR);
        let hash = subject_hash(&key, "SeCrEtToKeN");
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, subject_hash(&[8u8; 32], "SeCrEtToKeN"), "keyed");
        assert_eq!(subject.key, hash);
        assert_eq!(pair.key, format!("{hash} 127.0.0.1"));
        assert_eq!(address.key, "127.0.0.1");
        for counter in [&pair, &address, &subject] {
            assert!(!counter.key.contains("SeCrEtToKeN"));
        }
        assert_eq!(
            [pair.scope, address.scope, subject.scope],
            Guessed::ShareLinks.scopes()
        );
        assert_eq!(
            (pair.max, address.max, subject.max),
            (
                PER_SUBJECT_AND_ADDRESS.max,
                PER_ADDRESS.max,
                PER_SUBJECT.max
            )
        );
    }

    #[test]
    fn logins_and_share_links_count_apart() {
        let logins = Guessed::Logins.scopes();
        assert!(
            Guessed::ShareLinks
                .scopes()
                .iter()
                .all(|s| !logins.contains(s))
        );
    }

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(human_wait(1), "1 second");
        assert_eq!(human_wait(59), "59 seconds");
        assert_eq!(human_wait(60), "1 minute");
        assert_eq!(human_wait(61), "2 minutes");
    }
}
