//! Slows password guessing, for logins and for password-protected share links alike.
//!
//! An attempt is *reserved* before the password is checked, under one lock, so a burst of
//! parallel guesses is counted as it arrives instead of after argon2 has judged each one: at
//! most the limit is ever evaluated. Three counters, combined, decide:
//!
//! - **subject + address** (an email or a share link, from one client address): 5 per 15
//!   minutes. This is the limit a guesser meets first.
//! - **address** (across every subject): 20 per 15 minutes, so one address cannot try many
//!   accounts. It only ever blocks that address.
//! - **subject** (from every address): 10 per 5 minutes, so guessing spread over many addresses
//!   is slowed too. Its window is short on purpose: anyone can hit it for a victim's email, and
//!   it must not keep that person out for long.
//!
//! A right password clears the subject's counters and refunds its address attempt, so only
//! failures (and attempts still in flight) count. In memory: a restart forgives, which is
//! acceptable for a single-binary server and keeps the database out of the hot path.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

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
/// Bounds memory under a flood of distinct subjects: past this, stale entries are dropped.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, IpAddr),
    Address(IpAddr),
    Subject(String),
}

impl Key {
    fn rule(&self) -> Rule {
        match self {
            Key::Pair(..) => PER_SUBJECT_AND_ADDRESS,
            Key::Address(_) => PER_ADDRESS,
            Key::Subject(_) => PER_SUBJECT,
        }
    }
}

#[derive(Default)]
pub struct GuessLimiter {
    entries: Mutex<HashMap<Key, Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    attempts: u32,
    window_start: Instant,
}

impl Entry {
    /// The entry as it stands at `now`: a window that has passed starts again from zero.
    fn current(self, rule: Rule, now: Instant) -> Entry {
        if now.saturating_duration_since(self.window_start) >= rule.window {
            Entry {
                attempts: 0,
                window_start: now,
            }
        } else {
            self
        }
    }
}

/// A reserved attempt. Say how it went with [`Attempt::succeeded`]; dropping it otherwise
/// leaves it counted, as a failure.
#[must_use = "an attempt counts as failed unless `succeeded` is called"]
pub struct Attempt<'a> {
    limiter: &'a GuessLimiter,
    subject: String,
    addr: IpAddr,
}

impl Attempt<'_> {
    /// The right password: the subject starts afresh, and the address gets its attempt back
    /// (one right password must not reset a guessing run against other subjects, though).
    pub fn succeeded(self) {
        let mut entries = self.limiter.lock();
        entries.remove(&Key::Pair(self.subject.clone(), self.addr));
        entries.remove(&Key::Subject(self.subject.clone()));
        if let Some(entry) = entries.get_mut(&Key::Address(self.addr)) {
            entry.attempts = entry.attempts.saturating_sub(1);
        }
    }
}

impl GuessLimiter {
    /// Reserves one attempt at `subject` from `addr`, or `Err(seconds to wait)` when any of the
    /// three counters is at its limit (nothing is counted then).
    pub fn reserve(&self, subject: &str, addr: IpAddr, now: Instant) -> Result<Attempt<'_>, u64> {
        let keys = [
            Key::Pair(subject.to_owned(), addr),
            Key::Address(addr),
            Key::Subject(subject.to_owned()),
        ];
        let mut entries = self.lock();
        if entries.len() > PRUNE_ABOVE {
            entries
                .retain(|key, e| now.saturating_duration_since(e.window_start) < key.rule().window);
        }
        let wait = keys
            .iter()
            .filter_map(|key| {
                let rule = key.rule();
                let entry = entries.get(key)?.current(rule, now);
                (entry.attempts >= rule.max).then(|| {
                    let elapsed = now.saturating_duration_since(entry.window_start);
                    rule.window.saturating_sub(elapsed).as_secs().max(1)
                })
            })
            .max();
        if let Some(secs) = wait {
            return Err(secs);
        }
        for key in keys {
            let rule = key.rule();
            let entry = entries.entry(key).or_insert(Entry {
                attempts: 0,
                window_start: now,
            });
            *entry = entry.current(rule, now);
            entry.attempts += 1;
        }
        Ok(Attempt {
            limiter: self,
            subject: subject.to_owned(),
            addr,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        // A panic while holding the lock leaves only counters behind: still usable.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// At most `max` uses per client address per `window` (sign-ups), taken atomically.
pub struct AddressQuota {
    rule: Rule,
    entries: Mutex<HashMap<IpAddr, Entry>>,
}

impl AddressQuota {
    pub fn new(max: u32, window: Duration) -> Self {
        AddressQuota {
            rule: Rule { max, window },
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one use for `addr`, or `Err(seconds to wait)`.
    pub fn take(&self, addr: IpAddr, now: Instant) -> Result<(), u64> {
        let rule = self.rule;
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > PRUNE_ABOVE {
            entries.retain(|_, e| now.saturating_duration_since(e.window_start) < rule.window);
        }
        let entry = entries.entry(addr).or_insert(Entry {
            attempts: 0,
            window_start: now,
        });
        *entry = entry.current(rule, now);
        if entry.attempts >= rule.max {
            let elapsed = now.saturating_duration_since(entry.window_start);
            return Err(rule.window.saturating_sub(elapsed).as_secs().max(1));
        }
        entry.attempts += 1;
        Ok(())
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

    fn addr(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, n))
    }

    #[test]
    fn a_subject_from_one_address_is_locked_after_the_limit_and_released_after_the_window() {
        let t = GuessLimiter::default();
        let start = Instant::now();
        for _ in 0..PER_SUBJECT_AND_ADDRESS.max {
            let _failed = t.reserve("a@x.io", ADDR, start).unwrap();
        }
        let wait = t.reserve("a@x.io", ADDR, start).err().unwrap();
        assert_eq!(wait, PER_SUBJECT_AND_ADDRESS.window.as_secs());
        // The same person elsewhere, and others here, are not locked by it.
        assert!(t.reserve("a@x.io", addr(2), start).is_ok());
        assert!(t.reserve("b@x.io", ADDR, start).is_ok());
        assert!(
            t.reserve("a@x.io", ADDR, start + PER_SUBJECT_AND_ADDRESS.window)
                .is_ok()
        );
    }

    #[test]
    fn attempts_in_flight_count_before_they_are_judged() {
        let t = GuessLimiter::default();
        let now = Instant::now();
        // Reserved and not yet settled, as parallel requests would be.
        let in_flight: Vec<_> = (0..PER_SUBJECT_AND_ADDRESS.max)
            .map(|_| t.reserve("a@x.io", ADDR, now).unwrap())
            .collect();
        assert!(t.reserve("a@x.io", ADDR, now).is_err());
        drop(in_flight);
    }

    #[test]
    fn parallel_reservations_never_exceed_the_limit() {
        let t = std::sync::Arc::new(GuessLimiter::default());
        let now = Instant::now();
        let granted: u32 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..64)
                .map(|_| {
                    let t = t.clone();
                    s.spawn(move || u32::from(t.reserve("a@x.io", ADDR, now).is_ok()))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, PER_SUBJECT_AND_ADDRESS.max);
    }

    #[test]
    fn an_address_is_locked_across_subjects_without_locking_others() {
        let t = GuessLimiter::default();
        let now = Instant::now();
        for i in 0..PER_ADDRESS.max {
            let _failed = t.reserve(&format!("u{i}@x.io"), ADDR, now).unwrap();
        }
        assert!(t.reserve("fresh@x.io", ADDR, now).is_err());
        assert!(t.reserve("fresh@x.io", addr(9), now).is_ok());
    }

    #[test]
    fn guessing_from_many_addresses_slows_a_subject_for_minutes_only() {
        let t = GuessLimiter::default();
        let now = Instant::now();
        for i in 0..PER_SUBJECT.max {
            let _failed = t.reserve("victim@x.io", addr(i as u8), now).unwrap();
        }
        let wait = t.reserve("victim@x.io", addr(200), now).err().unwrap();
        assert!(wait <= PER_SUBJECT.window.as_secs(), "{wait}");
        assert!(
            t.reserve("victim@x.io", addr(200), now + PER_SUBJECT.window)
                .is_ok()
        );
    }

    #[test]
    fn success_clears_the_subject_and_refunds_the_address() {
        let t = GuessLimiter::default();
        let now = Instant::now();
        for _ in 0..PER_SUBJECT_AND_ADDRESS.max - 1 {
            let _failed = t.reserve("a@x.io", ADDR, now).unwrap();
        }
        t.reserve("a@x.io", ADDR, now).unwrap().succeeded();
        for _ in 0..PER_SUBJECT_AND_ADDRESS.max {
            t.reserve("a@x.io", ADDR, now).unwrap().succeeded();
        }
        assert!(t.reserve("a@x.io", ADDR, now).is_ok());
        // The address holds the four failures and that last attempt, not the successes.
        let entries = t.lock();
        assert_eq!(entries[&Key::Address(ADDR)].attempts, 4 + 1);
    }

    #[test]
    fn an_address_quota_holds_under_parallel_takes_and_refills_after_its_window() {
        let q = std::sync::Arc::new(AddressQuota::new(10, Duration::from_secs(3600)));
        let now = Instant::now();
        let granted: u32 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..50)
                .map(|_| {
                    let q = q.clone();
                    s.spawn(move || u32::from(q.take(ADDR, now).is_ok()))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, 10);
        assert!(q.take(addr(1), now).is_ok());
        assert!(q.take(ADDR, now + Duration::from_secs(3600)).is_ok());
    }

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(human_wait(1), "1 second");
        assert_eq!(human_wait(59), "59 seconds");
        assert_eq!(human_wait(60), "1 minute");
        assert_eq!(human_wait(61), "2 minutes");
    }
}
