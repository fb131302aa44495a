//! `fal-studio admin nodes`: the studio's nodes as the database sees them (live ones, and those
//! gone in the last day) with the jobs each holds. Read-only: it opens the database without
//! applying migrations and changes nothing.

use std::{collections::BTreeMap, fmt::Write as _, str::FromStr, time::Duration};

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqlitePoolOptions},
};

use super::Failure;
use crate::{
    Config,
    db::{Db, Engine},
    jobs::runner::{self, Holding},
    nodes::{self, NodeRow},
};

/// Nodes gone longer than this are summed up in one line rather than listed.
const RECENT_SECS: f64 = 86_400.0;
/// Jobs listed under one node; the rest are counted.
const JOBS_SHOWN: usize = 10;

pub(super) async fn run(config: &Config) -> Result<String, Failure> {
    let db = open_read_only(&config.database_url).await?;
    let listed = nodes::list(&db).await;
    let held = runner::holdings(&db).await;
    db.close().await;
    let rows = listed.map_err(|e| {
        Failure::failed(
            "could not read the nodes (has a server of this version run on this database yet?)",
            e,
        )
    })?;
    let (holdings, queued) =
        held.map_err(|e| Failure::failed("could not read the held jobs", e))?;
    Ok(render(&rows, &holdings, queued))
}

/// The database as configured, without migrations, and on SQLite read-only.
async fn open_read_only(url: &str) -> Result<Db, Failure> {
    let unreachable = |e: sqlx::Error| {
        Failure::failed(
            &format!(
                "could not open the database at {}",
                crate::config::redact_url(url)
            ),
            e,
        )
    };
    match Engine::of_url(url) {
        Some(Engine::Postgres) => {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| Failure::Usage(format!("DATABASE_URL is not a Postgres URL: {e}")))?
                .application_name("fal-studio admin nodes");
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(unreachable)?;
            Ok(Db::Postgres(pool))
        }
        _ => {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| Failure::Usage(format!("DATABASE_URL is not a SQLite URL: {e}")))?
                .create_if_missing(false)
                .read_only(true)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .map_err(unreachable)?;
            Ok(Db::Sqlite(pool))
        }
    }
}

fn render(rows: &[NodeRow], holdings: &[Holding], queued: i64) -> String {
    let mut by_owner: BTreeMap<&str, Vec<&Holding>> = BTreeMap::new();
    for h in holdings {
        by_owner.entry(h.lease_owner.as_str()).or_default().push(h);
    }
    let mut out = String::new();
    let live = rows.iter().filter(|n| n.live).count();
    let _ = writeln!(
        out,
        "{live} live node{} on this database.",
        if live == 1 { "" } else { "s" }
    );
    let mut older = 0;
    for node in rows {
        let age = seconds_between(&node.heartbeat_at, &node.now);
        let recent = node.live || age.is_none_or(|a| a < RECENT_SECS);
        let jobs = by_owner.remove(node.id.as_str()).unwrap_or_default();
        if !recent && jobs.is_empty() {
            older += 1;
            continue;
        }
        let state = match (&node.stopped_at, node.live) {
            (Some(_), _) => "stopped",
            (None, true) => "live",
            (None, false) => "dead",
        };
        let _ = writeln!(
            out,
            "\n{state:<8}{}  on {}  storage {}  started {}  heartbeat {}",
            node.id,
            node.host,
            node.storage,
            node.started_at,
            age.map_or_else(|| node.heartbeat_at.clone(), ago),
        );
        write_jobs(&mut out, &jobs, &node.now);
    }
    for (owner, jobs) in by_owner {
        let now = rows.first().map_or("", |n| n.now.as_str());
        let _ = writeln!(out, "\nunknown {owner}  (no longer in the node list)");
        write_jobs(&mut out, &jobs, now);
    }
    if older > 0 {
        let _ = writeln!(
            out,
            "\n{older} more node{} gone for over a day, holding nothing.",
            if older == 1 { "" } else { "s" }
        );
    }
    let _ = write!(
        out,
        "\n{queued} job{} wait{} in the queue for a node to start {}.",
        if queued == 1 { "" } else { "s" },
        if queued == 1 { "s" } else { "" },
        if queued == 1 { "it" } else { "them" },
    );
    out
}

fn write_jobs(out: &mut String, jobs: &[&Holding], now: &str) {
    if jobs.is_empty() {
        let _ = writeln!(out, "        holds no job");
        return;
    }
    let _ = writeln!(
        out,
        "        holds {} job{}:",
        jobs.len(),
        if jobs.len() == 1 { "" } else { "s" }
    );
    for job in jobs.iter().take(JOBS_SHOWN) {
        let lease = match seconds_between(now, &job.lease_expires_at) {
            Some(left) if left >= 0.0 => format!("lease for {:.0} s more", left),
            Some(_) => "lease expired: any node takes it over".to_owned(),
            None => format!("lease until {}", job.lease_expires_at),
        };
        let _ = writeln!(
            out,
            "          {}  {}  ({lease})",
            job.id,
            job.status.as_str()
        );
    }
    if jobs.len() > JOBS_SHOWN {
        let _ = writeln!(out, "          and {} more", jobs.len() - JOBS_SHOWN);
    }
}

fn ago(seconds: f64) -> String {
    let s = seconds.max(0.0);
    match s {
        s if s < 120.0 => format!("{s:.0} s ago"),
        s if s < 7_200.0 => format!("{:.0} min ago", s / 60.0),
        s if s < 172_800.0 => format!("{:.0} h ago", s / 3_600.0),
        s => format!("{:.0} days ago", s / 86_400.0),
    }
}

/// `to - from` in seconds, for two timestamps as the studio stores them
/// (`2026-12-04T03:22:51.123Z`).
fn seconds_between(from: &str, to: &str) -> Option<f64> {
    Some(seconds_of(to)? - seconds_of(from)?)
}

fn seconds_of(timestamp: &str) -> Option<f64> {
    let (date, clock) = timestamp.strip_suffix('Z')?.split_once('T')?;
    let mut ymd = date.splitn(3, '-').map(str::parse::<i32>);
    let (year, month, day) = (ymd.next()?.ok()?, ymd.next()?.ok()?, ymd.next()?.ok()?);
    let date = time::Date::from_calendar_date(
        year,
        time::Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let mut hms = clock.splitn(3, ':');
    let (hours, minutes, seconds): (f64, f64, f64) = (
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
        hms.next()?.parse().ok()?,
    );
    Some(f64::from(date.to_julian_day()) * 86_400.0 + hours * 3_600.0 + minutes * 60.0 + seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobStatus;

    fn node(id: &str, live: bool, stopped: bool, heartbeat: &str) -> NodeRow {
        NodeRow {
            id: id.into(),
            host: "box".into(),
            storage: "s3".into(),
            started_at: "2026-12-04T10:00:00.000Z".into(),
            heartbeat_at: heartbeat.into(),
            stopped_at: stopped.then(|| heartbeat.to_owned()),
            live,
            now: "2026-12-04T12:00:00.000Z".into(),
        }
    }

    #[test]
    fn timestamps_subtract_across_days() {
        assert_eq!(
            seconds_between("2026-12-31T23:59:59.500Z", "2027-01-01T00:00:01.000Z"),
            Some(1.5)
        );
        assert_eq!(
            seconds_between("yesterday", "2027-01-01T00:00:01.000Z"),
            None
        );
    }

    #[test]
    fn live_stopped_and_dead_nodes_are_told_apart_with_their_jobs() {
        let rows = [
            node("n-live", true, false, "2026-12-04T11:59:58.000Z"),
            node("n-stopped", false, true, "2026-12-04T11:00:00.000Z"),
            node("n-dead", false, false, "2026-12-04T11:59:00.000Z"),
            node("n-old", false, false, "2026-11-30T11:59:00.000Z"),
        ];
        let holdings = [
            Holding {
                lease_owner: "n-live".into(),
                id: "job-1".into(),
                status: JobStatus::Running,
                lease_expires_at: "2026-12-04T12:00:25.000Z".into(),
            },
            Holding {
                lease_owner: "n-dead".into(),
                id: "job-2".into(),
                status: JobStatus::Storing,
                lease_expires_at: "2026-12-04T11:59:30.000Z".into(),
            },
        ];
        let text = render(&rows, &holdings, 3);
        assert!(text.starts_with("1 live node on this database."), "{text}");
        assert!(text.contains("live    n-live"), "{text}");
        assert!(text.contains("heartbeat 2 s ago"), "{text}");
        assert!(
            text.contains("job-1  running  (lease for 25 s more)"),
            "{text}"
        );
        assert!(text.contains("stopped n-stopped"), "{text}");
        assert!(text.contains("dead    n-dead"), "{text}");
        assert!(text.contains("job-2  storing  (lease expired"), "{text}");
        assert!(!text.contains("n-old"), "{text}");
        assert!(text.contains("1 more node gone for over a day"), "{text}");
        assert!(
            text.ends_with("3 jobs wait in the queue for a node to start them."),
            "{text}"
        );
    }
}
