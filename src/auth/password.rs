//! argon2id hashing on a few dedicated threads, so a login never stalls the async workers and
//! memory stays bounded: each hash holds 19 MiB, and glibc keeps such blocks in the arena of
//! the thread that used them. On tokio's blocking pool a burst of 50 sign-ups touched dozens of
//! threads and left over 500 MiB resident (measured by `scripts/bench`); a fixed set of threads
//! keeps it to one block each.
//!
//! Checking a password (sign-in, share links) goes ahead of making a new hash (sign-up, new share
//! passwords, password changes): a flood of sign-ups must not make people wait to sign in. New
//! hashes wait in a bounded queue; past it the caller is told the studio is busy.

use std::{
    collections::VecDeque,
    sync::{Condvar, Mutex, OnceLock},
};

type Task = Box<dyn FnOnce() + Send>;

/// Which queue a task waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    /// Someone is waiting to get in: checked first.
    Check,
    /// A new hash: only when no check waits.
    Create,
}

/// How many new hashes may wait; each takes tens of milliseconds, so this is seconds of work.
const MAX_WAITING_CREATES: usize = 64;

#[derive(Default)]
struct Queues {
    check: VecDeque<Task>,
    create: VecDeque<Task>,
}

struct Pool {
    queues: Mutex<Queues>,
    ready: Condvar,
}

/// The hashing threads refused new work; the caller says "busy, try again".
#[derive(Debug, thiserror::Error)]
#[error("password hashing is busy")]
pub struct Busy;

/// The process's hashing threads, started on first use.
fn pool() -> &'static Pool {
    static POOL: OnceLock<&'static Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        Pool::start(std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4)))
    })
}

impl Pool {
    /// Starts `threads` hashing threads that live as long as the process.
    fn start(threads: usize) -> &'static Pool {
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
        }));
        for i in 0..threads {
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let task = {
                            let mut queues = pool.queues.lock().unwrap_or_else(|p| p.into_inner());
                            loop {
                                if let Some(task) = queues
                                    .check
                                    .pop_front()
                                    .or_else(|| queues.create.pop_front())
                                {
                                    break task;
                                }
                                queues = pool.ready.wait(queues).unwrap_or_else(|p| p.into_inner());
                            }
                        };
                        task();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        pool
    }

    /// Runs `work` on a hashing thread and waits for it without blocking the runtime.
    async fn run<T: Send + 'static>(
        &self,
        priority: Priority,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task: Task = Box::new(move || {
            let result = work();
            release_freed_memory();
            let _ = tx.send(result);
        });
        {
            let mut queues = self.queues.lock().unwrap_or_else(|p| p.into_inner());
            match priority {
                Priority::Check => queues.check.push_back(task),
                Priority::Create if queues.create.len() >= MAX_WAITING_CREATES => {
                    return Err(Busy.into());
                }
                Priority::Create => queues.create.push_back(task),
            }
        }
        self.ready.notify_one();
        rx.await.context("password hashing task failed")
    }
}

/// glibc keeps freed 19 MiB hash blocks in its arenas (its trim threshold rises with each large
/// free); handing them back after each hash keeps a burst of logins from pinning hundreds of MiB.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the OS; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

use anyhow::Context;

use crate::error::{AppError, Category};
use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};

/// A new argon2id hash. Waits behind every password check; when too many new hashes wait
/// already, a `rate_limited` error asks to try again shortly.
pub async fn hash(password: String) -> Result<String, AppError> {
    hash_on(pool(), password).await
}

async fn hash_on(pool: &Pool, password: String) -> Result<String, AppError> {
    match pool
        .run(Priority::Create, move || hash_blocking(&password))
        .await
    {
        Ok(hashed) => Ok(hashed?),
        Err(e) if e.is::<Busy>() => Err(AppError::new(
            Category::RateLimited,
            "The studio is busy setting up other passwords. Try again in a few seconds.",
        )
        .with_retry_after(5)),
        Err(e) => Err(e.into()),
    }
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
}

/// Verifies `password` against `stored`, or against a fixed dummy hash when there is no user,
/// so "no such email" takes as long as "wrong password".
pub async fn verify(stored: Option<String>, password: String) -> anyhow::Result<bool> {
    verify_on(pool(), stored, password).await
}

async fn verify_on(pool: &Pool, stored: Option<String>, password: String) -> anyhow::Result<bool> {
    pool.run(Priority::Check, move || {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (dummy_hash()?.to_owned(), false),
        };
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| anyhow::anyhow!("stored password hash is unreadable: {e}"))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && real)
    })
    .await
    .context("password verification task failed")?
}

fn dummy_hash() -> anyhow::Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h);
    }
    let h = hash_blocking("a password nobody has, used only to spend the same time")?;
    Ok(DUMMY.get_or_init(|| h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(
            verify(Some(h.clone()), "correct horse".into())
                .await
                .unwrap()
        );
        assert!(!verify(Some(h), "wrong horse".into()).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_go_ahead_of_queued_new_hashes_and_the_queue_is_bounded() {
        // A pool of its own, so filling its queue cannot refuse other tests' hashes.
        let pool = Pool::start(2);
        let stored = hash_blocking("correct horse").unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let creates: Vec<_> = (0..MAX_WAITING_CREATES + 40)
            .map(|_| {
                let done = done.clone();
                tokio::spawn(async move {
                    let hashed = hash_on(pool, "a new password".into()).await;
                    if hashed.is_ok() {
                        done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    hashed
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert!(
            verify_on(pool, Some(stored), "correct horse".into())
                .await
                .unwrap()
        );
        let done_before_the_check = done.load(std::sync::atomic::Ordering::SeqCst);

        let mut busy = 0;
        for create in creates {
            match create.await.unwrap() {
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(e.category(), Category::RateLimited);
                    busy += 1;
                }
            }
        }
        assert!(
            busy > 0,
            "past {MAX_WAITING_CREATES} waiting, new hashes are refused"
        );
        assert!(
            done_before_the_check < MAX_WAITING_CREATES / 2,
            "the check waited for {done_before_the_check} queued hashes"
        );
    }

    #[tokio::test]
    async fn no_user_never_verifies() {
        assert!(
            !verify(
                None,
                "a password nobody has, used only to spend the same time".into()
            )
            .await
            .unwrap()
        );
    }
}
