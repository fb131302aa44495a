//! Slows password guessing: after too many failed logins for one email, or from one address,
//! further attempts answer 429 until the window has passed. In memory: a restart forgives, which
//! is acceptable for a single-binary server and keeps the database out of the hot path.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const MAX_FAILURES_PER_EMAIL: u32 = 5;
pub const MAX_FAILURES_PER_ADDRESS: u32 = 20;
/// Bounds memory under a flood of distinct emails: past this, stale entries are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key<'a> {
    Email(&'a str),
    Address(IpAddr),
}

#[derive(Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    window_start: Instant,
}

impl LoginThrottle {
    /// `Err(seconds to wait)` when either the email or the address is locked out.
    pub fn check(&self, email: &str, addr: IpAddr, now: Instant) -> Result<(), u64> {
        let entries = self.lock();
        let wait = [
            (Key::Email(email), MAX_FAILURES_PER_EMAIL),
            (Key::Address(addr), MAX_FAILURES_PER_ADDRESS),
        ]
        .into_iter()
        .filter_map(|(key, limit)| {
            let entry = entries.get(&name(key))?;
            let elapsed = now.saturating_duration_since(entry.window_start);
            (entry.failures >= limit && elapsed < WINDOW)
                .then(|| (WINDOW - elapsed).as_secs().max(1))
        })
        .max();
        match wait {
            Some(secs) => Err(secs),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, email: &str, addr: IpAddr, now: Instant) {
        let mut entries = self.lock();
        if entries.len() > PRUNE_ABOVE {
            entries.retain(|_, e| now.saturating_duration_since(e.window_start) < WINDOW);
        }
        for key in [Key::Email(email), Key::Address(addr)] {
            let entry = entries.entry(name(key)).or_insert(Entry {
                failures: 0,
                window_start: now,
            });
            if now.saturating_duration_since(entry.window_start) >= WINDOW {
                *entry = Entry {
                    failures: 0,
                    window_start: now,
                };
            }
            entry.failures += 1;
        }
    }

    /// A successful login clears the email's count (not the address's: one right password
    /// must not reset a guessing run against other accounts).
    pub fn record_success(&self, email: &str) {
        self.lock().remove(&name(Key::Email(email)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves only counters behind: still usable.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn name(key: Key<'_>) -> String {
    match key {
        Key::Email(e) => format!("email:{e}"),
        Key::Address(a) => format!("addr:{a}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn locks_an_email_after_the_limit_and_releases_after_the_window() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES_PER_EMAIL {
            assert!(t.check("a@x.io", ADDR, start).is_ok());
            t.record_failure("a@x.io", ADDR, start);
        }
        let wait = t.check("a@x.io", ADDR, start).unwrap_err();
        assert_eq!(wait, WINDOW.as_secs());
        assert!(
            t.check("b@x.io", std::net::Ipv4Addr::new(10, 0, 0, 2).into(), start)
                .is_ok()
        );
        assert!(t.check("a@x.io", ADDR, start + WINDOW).is_ok());
    }

    #[test]
    fn locks_an_address_across_emails() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            t.record_failure(&format!("u{i}@x.io"), ADDR, now);
        }
        assert!(t.check("fresh@x.io", ADDR, now).is_err());
    }

    #[test]
    fn success_clears_the_email() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES_PER_EMAIL {
            t.record_failure("a@x.io", ADDR, now);
        }
        t.record_success("a@x.io");
        assert!(t.check("a@x.io", ADDR, now).is_ok());
    }
}
