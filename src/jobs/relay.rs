//! Brings the job events other nodes log to this node's [`Hub`](super::Hub): polls the event log
//! every `EVENTS_POLL_MS` (and at once when the hub asks), reads the current state of the jobs
//! the new rows name, and hands them over under the rows' ids. Also prunes the log.
//!
//! A round costs a constant number of statements however many rows it reads: the rows, the
//! jobs they name, and the jobs' assets and references (the job store's batch view). A job
//! named by several rows of a round is read once and sent under its newest row's id; the
//! earlier ids are counted as arrived with nothing to send. Rows this node already has (its own
//! changes, sent when they were made) are skipped before anything is read; its own rows that
//! the hub has not seen yet (a change still between its log row and its send) are read like any
//! other, and the later local send is then dropped as a repeat.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use super::{event_log, events::GAP_WAIT, store};
use crate::{AppState, error::Result};

/// Rows read per round at most; a full round is followed by another at once.
const ROWS_PER_ROUND: i64 = 100;
/// How often rounds run while events wait for a missing id (a lower id from another node, or
/// an insert still committing), whatever `EVENTS_POLL_MS` is.
const BLOCKED_EVERY: Duration = Duration::from_millis(20);
/// Log rows older than this are deleted: far longer than any node takes to read them (replay
/// comes from each node's memory, not from the log).
const KEEP_FOR: Duration = Duration::from_secs(600);
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Follows the event log until the server stops.
pub async fn run(state: AppState, every: Duration) {
    let stopping = state.runner.stopping();
    let mut failing = false;
    let mut next_prune = Instant::now() + PRUNE_EVERY;
    loop {
        let wait = if state.hub.blocked() {
            every.min(BLOCKED_EVERY)
        } else {
            every
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = state.hub.poll_requested() => {}
            () = stopping.cancelled() => return,
        }
        loop {
            match round(&state).await {
                Ok(more) => {
                    if failing {
                        tracing::info!(
                            "job events from other nodes: the event log is readable again"
                        );
                        failing = false;
                    }
                    if !more {
                        break;
                    }
                }
                Err(e) => {
                    // Once per outage: a round runs every few hundred milliseconds.
                    if !failing {
                        tracing::warn!(error = %e, "job events from other nodes: could not read the event log; retrying");
                        failing = true;
                    }
                    break;
                }
            }
        }
        if Instant::now() >= next_prune {
            next_prune = Instant::now() + PRUNE_EVERY;
            match event_log::prune(&state.db, KEEP_FOR).await {
                Ok(n) if n > 0 => tracing::debug!(rows = n, "pruned the job event log"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not prune the job event log"),
            }
        }
    }
}

/// What a round read: the newest id in the log it saw, and whether it read a full page.
struct Read {
    newest: u64,
    full: bool,
}

/// One poll; `Ok(true)` when there may be more to read at once.
async fn round(state: &AppState) -> Result<bool> {
    let from = state.hub.delivered();
    state.hub.poll_started();
    let outcome = read_and_send(state, from).await;
    state
        .hub
        .poll_done(outcome.as_ref().ok().map(|read| read.newest), GAP_WAIT);
    let read = outcome?;
    // Only go on at once when the round moved: rows held behind a gap would be read again.
    Ok(read.full && state.hub.delivered() > from)
}

/// Reads the rows after `from` and sends the ones this node does not have yet.
async fn read_and_send(state: &AppState, from: u64) -> Result<Read> {
    let rows = event_log::after(&state.db, from, ROWS_PER_ROUND).await?;
    let read = Read {
        newest: rows.last().map_or(from, |r| event_id(r.id)),
        full: rows.len() as i64 >= ROWS_PER_ROUND,
    };
    let fresh: Vec<&event_log::LoggedEvent> = rows
        .iter()
        .filter(|r| !state.hub.knows(event_id(r.id)))
        .collect();
    if fresh.is_empty() {
        return Ok(read);
    }
    // Each job's newest row in this round (rows ascend, so the last one wins).
    let newest_of_job: HashMap<&str, i64> =
        fresh.iter().map(|r| (r.job_id.as_str(), r.id)).collect();
    let ids: Vec<&str> = newest_of_job.keys().copied().collect();
    let jobs = store::jobs_by_id(&state.db, &ids).await?;
    let views = super::waiting::views_of(state, &jobs).await?;
    let by_job: HashMap<&str, (&str, &store::JobView)> = jobs
        .iter()
        .zip(&views)
        .map(|(job, view)| (job.id.as_str(), (job.user_id.as_str(), view)))
        .collect();
    for row in fresh {
        let id = event_id(row.id);
        let carries = newest_of_job.get(row.job_id.as_str()) == Some(&row.id);
        match by_job.get(row.job_id.as_str()) {
            Some((user_id, view)) if carries => state.hub.publish(id, user_id, view),
            // An earlier row of a job sent under a later id, or a job deleted since.
            _ => state.hub.skip(id),
        }
    }
    Ok(read)
}

/// Log ids are positive; anything else would be a broken table, read as "nothing".
fn event_id(id: i64) -> u64 {
    u64::try_from(id).unwrap_or(0)
}
