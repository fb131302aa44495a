//! Why a job waits, in words: the studio's turn rule (round-robin between users on one key) and
//! the reason a queued job has not started — the user's own running jobs, the key's slots at
//! fal, or the studio's overall limit — and, once fal holds it, fal's own queue position.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::{
    JobLimits,
    status::JobStatus,
    store::{self, JobView, PendingJob},
};
use crate::{
    AppState,
    error::Result,
    team::keys::{STUDIO_LINE, key_line},
    users,
};

/// When each user last had a job started (on this node): the round-robin's memory of whose
/// turn came longest ago. Kept in memory: a restarted node forgets it, and with several nodes
/// each remembers its own starts, so turns are fair per node and close to fair across them.
#[derive(Default)]
pub struct Turns {
    last_started: Mutex<HashMap<String, Instant>>,
}

/// Users remembered at most; past it, turns older than an hour are forgotten.
const MAX_REMEMBERED: usize = 10_000;

impl Turns {
    pub fn note_started<'a>(&self, users: impl IntoIterator<Item = &'a str>) {
        let mut last = self.lock();
        let now = Instant::now();
        for user in users {
            last.insert(user.to_owned(), now);
        }
        if last.len() > MAX_REMEMBERED {
            last.retain(|_, at| at.elapsed() < Duration::from_secs(3600));
        }
    }

    pub fn snapshot(&self) -> HashMap<String, Instant> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        // Only a memory of turns: whatever a panic elsewhere left is still usable.
        self.last_started
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Queued jobs in the order they should start: round-robin between users, so one user's batch
/// of 50 does not hold everyone else back. A job's turn is how many jobs its user has at fal
/// plus how many of their queued jobs come before it; among equal turns, the user whose last
/// start is longest ago (or who never started one) goes first, then the older job. Ann with
/// 20 queued and Bob with 1: B1 starts at the next free slot, whoever queued first.
pub fn fair_order<'a>(
    queued: &[&'a PendingJob],
    running_per_user: &HashMap<&str, usize>,
    last_started: &HashMap<String, Instant>,
) -> Vec<&'a PendingJob> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut ranked: Vec<(usize, Option<Instant>, usize, &'a PendingJob)> = queued
        .iter()
        .enumerate()
        .map(|(age, j)| {
            let before = seen.entry(j.user_id.as_str()).or_default();
            let turn = running_per_user
                .get(j.user_id.as_str())
                .copied()
                .unwrap_or(0)
                + *before;
            *before += 1;
            (turn, last_started.get(&j.user_id).copied(), age, *j)
        })
        .collect();
    ranked.sort_by_key(|(turn, last, age, _)| (*turn, *last, *age));
    ranked.into_iter().map(|(_, _, _, j)| j).collect()
}

pub fn at_fal(job: &PendingJob) -> bool {
    matches!(
        job.status,
        JobStatus::Submitting | JobStatus::Running | JobStatus::Storing
    )
}

fn line_of(job: &PendingJob) -> String {
    key_line(job.key_source, &job.user_id)
}

/// The views of `rows` as clients see them, with their wait reasons.
pub async fn views_of(state: &AppState, rows: &[store::JobRow]) -> Result<Vec<JobView>> {
    let mut views = store::views(&state.db, rows).await?;
    explain(state, &mut views).await?;
    Ok(views)
}

/// One job's view, with its wait reason.
pub async fn view_of(state: &AppState, row: &store::JobRow) -> Result<JobView> {
    let mut views = views_of(state, std::slice::from_ref(row)).await?;
    views
        .pop()
        .ok_or_else(|| crate::error::AppError::Internal(anyhow::anyhow!("a job view went missing")))
}

/// Fills `wait_reason` of the queued views (and of those in fal's queue). Reads the unfinished
/// jobs once, and only when a view is queued.
pub async fn explain(state: &AppState, views: &mut [JobView]) -> Result<()> {
    for view in views.iter_mut() {
        if let (JobStatus::Running, Some(position), None) =
            (view.status, view.queue_position, &view.wait_reason)
        {
            // fal counts from 0: position 0 is the next request its machines take.
            view.wait_reason = Some(if position <= 0 {
                "In fal's queue, next in line".to_owned()
            } else {
                format!("In fal's queue, position {}", position + 1)
            });
        }
    }
    if !views.iter().any(|v| v.status == JobStatus::Queued) {
        return Ok(());
    }
    let pending = store::unfinished(&state.db).await?;
    let mut user_ids: Vec<&str> = views.iter().map(|v| v.user_id.as_str()).collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let own_limits: HashMap<String, usize> = users::keys_of(&state.db, &user_ids)
        .await?
        .into_iter()
        .filter_map(|row| Some((row.id, usize::try_from(row.fal_key_concurrency?).ok()?)))
        .collect();
    let studio_limit = crate::team::settings::load(&state.db)
        .await?
        .key_limit(state.job_limits.key_concurrency);
    let last_started = state.runner.turns.snapshot();
    let reasons = reasons(&pending, &state.job_limits, &last_started, |line| {
        match line.strip_prefix("own:") {
            Some(user) => own_limits.get(user).copied(),
            None => Some(studio_limit),
        }
        .unwrap_or(state.job_limits.key_concurrency)
    });
    for view in views.iter_mut() {
        if view.status == JobStatus::Queued {
            view.wait_reason = reasons.get(view.id.as_str()).cloned();
        }
    }
    Ok(())
}

/// The reason of every queued job in `pending`, by id. Jobs are taken in the scheduler's fair
/// order and given the free places as it would give them: only as many say "Starting" as there
/// are free slots (a moment after a job ends, one slot is free, not one per waiting job); the
/// others are placed in line behind them.
fn reasons(
    pending: &[PendingJob],
    limits: &JobLimits,
    last_started: &HashMap<String, Instant>,
    key_limit: impl Fn(&str) -> usize,
) -> HashMap<String, String> {
    let held: Vec<&PendingJob> = pending.iter().filter(|j| at_fal(j)).collect();
    let mut per_user: HashMap<&str, usize> = HashMap::new();
    let mut per_line: HashMap<String, usize> = HashMap::new();
    for j in &held {
        *per_user.entry(j.user_id.as_str()).or_default() += 1;
        *per_line.entry(line_of(j)).or_default() += 1;
    }
    let queued: Vec<&PendingJob> = pending
        .iter()
        .filter(|j| j.status == JobStatus::Queued)
        .collect();
    let order = fair_order(&queued, &per_user, last_started);
    // From here on the counts include the jobs about to start.
    let mut at_fal_total = held.len();
    let mut place_in_line: HashMap<String, usize> = HashMap::new();
    let mut reasons = HashMap::new();
    for job in order {
        let line = line_of(job);
        let running = per_user.get(job.user_id.as_str()).copied().unwrap_or(0);
        let on_line = per_line.get(&line).copied().unwrap_or(0);
        let key = if line == STUDIO_LINE {
            "the studio key"
        } else {
            "your fal key"
        };
        let reason = if running >= limits.max_running_per_user {
            format!(
                "Waiting for your own running jobs: {running} are running, the most this studio runs at once per person"
            )
        } else if on_line >= key_limit(&line) {
            let place = place_in_line.entry(line.clone()).or_default();
            *place += 1;
            format!("Waiting for a slot on {key} ({} in line)", ordinal(*place))
        } else if at_fal_total >= limits.max_running {
            let place = place_in_line.entry(line.clone()).or_default();
            *place += 1;
            format!(
                "Waiting for a free place: the studio is running its most jobs at once ({} in line)",
                ordinal(*place)
            )
        } else {
            *per_user.entry(job.user_id.as_str()).or_default() += 1;
            *per_line.entry(line.clone()).or_default() += 1;
            at_fal_total += 1;
            "Starting".to_owned()
        };
        reasons.insert(job.id.clone(), reason);
    }
    reasons
}

/// 1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st.
pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::team::KeySource;

    fn job(id: &str, user: &str, status: JobStatus, studio: bool) -> PendingJob {
        PendingJob {
            id: id.into(),
            user_id: user.into(),
            status,
            key_fingerprint: None,
            key_source: Some(if studio {
                KeySource::Studio
            } else {
                KeySource::Own
            }),
            lease_owner: None,
            lapsed: true,
        }
    }

    const LIMITS: JobLimits = JobLimits {
        max_running: 16,
        max_running_per_user: 4,
        max_queued_per_user: 50,
        key_concurrency: 2,
        max_output_bytes: 1,
        max_output_files: 1,
        max_job_output_bytes: 1,
    };

    #[test]
    fn users_take_turns_whoever_queued_first() {
        let a: Vec<PendingJob> = (0..5)
            .map(|i| job(&format!("a{i}"), "ann", JobStatus::Queued, true))
            .collect();
        let b = job("b0", "bob", JobStatus::Queued, true);
        let mut all: Vec<&PendingJob> = a.iter().collect();
        all.push(&b);
        let ids = |order: Vec<&PendingJob>| -> Vec<String> {
            order.iter().map(|j| j.id.clone()).collect()
        };
        let never = HashMap::new();
        let running = HashMap::from([("ann", 2)]);
        assert_eq!(
            ids(fair_order(&all, &running, &never)),
            ["b0", "a0", "a1", "a2", "a3", "a4"]
        );
        assert_eq!(
            ids(fair_order(&all, &HashMap::new(), &never)),
            ["a0", "b0", "a1", "a2", "a3", "a4"]
        );
        // Ann's jobs at fal just finished: she has none running, but her turn came lately.
        let ann_served = HashMap::from([("ann".to_owned(), Instant::now())]);
        assert_eq!(
            ids(fair_order(&all, &HashMap::new(), &ann_served)),
            ["b0", "a0", "a1", "a2", "a3", "a4"]
        );
    }

    #[test]
    fn each_queued_job_says_why_it_waits() {
        let pending = vec![
            job("a-run1", "ann", JobStatus::Running, true),
            job("a-run2", "ann", JobStatus::Running, true),
            job("a1", "ann", JobStatus::Queued, true),
            job("a2", "ann", JobStatus::Queued, true),
            job("b1", "bob", JobStatus::Queued, true),
            job("c1", "cy", JobStatus::Queued, false),
        ];
        let reasons = reasons(&pending, &LIMITS, &HashMap::new(), |_| 2);
        assert_eq!(
            reasons["b1"],
            "Waiting for a slot on the studio key (1st in line)"
        );
        assert_eq!(
            reasons["a1"],
            "Waiting for a slot on the studio key (2nd in line)"
        );
        assert_eq!(
            reasons["a2"],
            "Waiting for a slot on the studio key (3rd in line)"
        );
        assert_eq!(reasons["c1"], "Starting");
        let per_person = JobLimits {
            max_running_per_user: 2,
            ..LIMITS
        };
        let reasons = super::reasons(&pending, &per_person, &HashMap::new(), |_| 8);
        assert!(
            reasons["a1"].starts_with("Waiting for your own running jobs"),
            "{}",
            reasons["a1"]
        );
        assert_eq!(reasons["b1"], "Starting");
    }

    #[test]
    fn only_as_many_say_starting_as_there_are_free_slots() {
        // One of the studio key's two slots has just come free: one job starts, the rest wait.
        let pending = vec![
            job("a-run", "ann", JobStatus::Running, true),
            job("a1", "ann", JobStatus::Queued, true),
            job("a2", "ann", JobStatus::Queued, true),
            job("b1", "bob", JobStatus::Queued, true),
        ];
        let reasons = reasons(&pending, &LIMITS, &HashMap::new(), |_| 2);
        assert_eq!(reasons["b1"], "Starting");
        assert_eq!(
            reasons["a1"],
            "Waiting for a slot on the studio key (1st in line)"
        );
        assert_eq!(
            reasons["a2"],
            "Waiting for a slot on the studio key (2nd in line)"
        );
    }

    #[test]
    fn ordinals_read_right() {
        let words: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal).to_vec();
        assert_eq!(
            words,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
            ]
        );
    }
}
