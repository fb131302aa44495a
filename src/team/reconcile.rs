//! Checks finished jobs' estimated costs against what fal billed (`GET
//! /v1/models/billing-events`, per request id), so budgets and the admin's usage count real
//! charges: a failed request fal billed (an invalid input that used GPU time) counts, one it
//! never billed (a server error) counts nothing. Only keys with admin scope may read billing;
//! jobs on other keys keep their estimates. Every node runs it; recording a charge twice writes
//! the same value.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use time::OffsetDateTime;

use super::{keys, settings};
use crate::{
    AppState,
    account::user_fal_key,
    db::timestamp_text,
    error::Result,
    fal::{BillingEvents, FalKey},
    jobs::store::{self, Unreconciled},
    users,
};

/// Jobs checked per round.
const ROUND: i64 = 500;
/// fal takes request ids 50 at a time.
const BATCH: usize = 50;
/// A request fal shows no billing event for this long after it finished was not billed.
const NOT_BILLED_AFTER: Duration = Duration::from_secs(3600);
/// How long a key that may not read billing is left alone.
const NOT_ALLOWED_PAUSE: Duration = Duration::from_secs(3600);

/// Runs a round every `every`, checking jobs that finished at least `every` ago (fal's bill
/// lags the result a little).
pub async fn run(state: AppState, every: Duration) {
    let mut paused: HashMap<String, Instant> = HashMap::new();
    loop {
        tokio::time::sleep(every).await;
        if state.runner.is_stopping() {
            return;
        }
        match round(&state, every, &mut paused).await {
            Ok(0) => {}
            Ok(checked) => tracing::info!(checked, "job costs checked against fal's billing"),
            Err(e) => tracing::warn!(error = %e, "checking job costs against fal's billing failed"),
        }
    }
}

fn line_of(job: &Unreconciled) -> String {
    keys::key_line(job.key_source, &job.user_id)
}

/// One round; how many jobs got their charge.
pub async fn round(
    state: &AppState,
    min_age: Duration,
    paused: &mut HashMap<String, Instant>,
) -> Result<usize> {
    let now = OffsetDateTime::now_utc();
    let jobs = store::unreconciled(&state.db, &timestamp_text(now - min_age), ROUND).await?;
    if jobs.is_empty() {
        return Ok(0);
    }
    let not_billed_before = timestamp_text(now - NOT_BILLED_AFTER);
    let settings = settings::load(&state.db).await?;
    let mut lines: HashMap<String, Vec<&Unreconciled>> = HashMap::new();
    for job in &jobs {
        lines.entry(line_of(job)).or_default().push(job);
    }
    let mut checked = 0;
    for (line, jobs) in lines {
        if paused
            .get(&line)
            .is_some_and(|since| since.elapsed() < NOT_ALLOWED_PAUSE)
        {
            continue;
        }
        let Some(key) = key_of(state, &settings, &line, jobs[0]).await else {
            continue;
        };
        for batch in jobs.chunks(BATCH) {
            let ids: Vec<&str> = batch.iter().map(|j| j.request_id.as_str()).collect();
            let start = batch
                .iter()
                .map(|j| j.created_at.get(..10).unwrap_or("2020-01-01"))
                .min()
                .unwrap_or("2020-01-01");
            let events = match state.fal.billing_events(&key, &ids, start).await {
                Ok(BillingEvents::Events(events)) => events,
                Ok(BillingEvents::NotAllowed) => {
                    tracing::info!(line = %line.split(':').next().unwrap_or(""), "this key may not read fal's billing; its jobs keep their estimates");
                    paused.insert(line.clone(), Instant::now());
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "fal's billing events could not be read");
                    break;
                }
            };
            let mut charged: HashMap<&str, i64> = HashMap::new();
            for event in &events {
                *charged.entry(event.request_id.as_str()).or_default() += event.micros();
            }
            for job in batch {
                let micros = match charged.get(job.request_id.as_str()) {
                    Some(m) => *m,
                    // No bill an hour on: fal did not charge it.
                    None if job.finished_at < not_billed_before => 0,
                    None => continue,
                };
                store::set_charged(&state.db, &job.id, micros).await?;
                checked += 1;
            }
        }
    }
    Ok(checked)
}

async fn key_of(
    state: &AppState,
    settings: &settings::StudioSettings,
    line: &str,
    job: &Unreconciled,
) -> Option<FalKey> {
    if line == keys::STUDIO_LINE {
        return keys::studio_key(state, settings).ok();
    }
    let user = users::find_by_id(&state.db, &job.user_id).await.ok()??;
    user_fal_key(state, &user).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_have_the_jobs_timestamp_shape() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_796_354_571_123_000_000).unwrap();
        assert_eq!(timestamp_text(t), "2026-12-04T03:22:51.123Z");
    }
}
