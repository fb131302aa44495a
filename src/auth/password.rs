//! argon2id hashing on a few dedicated threads, so a login never stalls the async workers and
//! memory stays bounded: each hash holds 19 MiB, and glibc keeps such blocks in the arena of
//! the thread that used them. On tokio's blocking pool a burst of 50 sign-ups touched dozens of
//! threads and left over 500 MiB resident (measured by `scripts/bench`); a fixed set of threads
//! keeps it to one block each.

use std::sync::{Mutex, OnceLock, mpsc};

type Task = Box<dyn FnOnce() + Send>;

fn hashing_threads() -> &'static Mutex<mpsc::Sender<Task>> {
    static POOL: OnceLock<Mutex<mpsc::Sender<Task>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Task>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let task = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        match task {
                            Ok(task) => task(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Mutex::new(tx)
    })
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

/// Runs `work` on a hashing thread and waits for it without blocking the runtime.
async fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task: Task = Box::new(move || {
        let result = work();
        release_freed_memory();
        let _ = tx.send(result);
    });
    hashing_threads()
        .lock()
        .map_err(|_| anyhow::anyhow!("password hashing is unavailable"))?
        .send(task)
        .map_err(|_| anyhow::anyhow!("password hashing threads stopped"))?;
    rx.await.context("password hashing task failed")
}

use anyhow::Context;
use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng},
};

pub async fn hash(password: String) -> anyhow::Result<String> {
    on_hashing_thread(move || hash_blocking(&password)).await?
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
    on_hashing_thread(move || {
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
