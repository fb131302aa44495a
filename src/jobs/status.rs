//! A job's life: the statuses of the `jobs.status` column and the one table of moves between
//! them. Every status change in the store goes through [`JobStatus::can_become`]: an update
//! applies only to a row whose current status may become the new one, so an illegal move (a
//! finished job running again, a cancelled job completing) changes nothing.

use serde::Serialize;

// Stored as its text ([`JobStatus::as_str`]) on every engine (`text_column!`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Internal: reference files are still arriving; never shown.
    Receiving,
    /// Waiting for a free place (the studio's own queue).
    Queued,
    /// Being sent to fal.
    Submitting,
    /// fal holds it (in fal's queue or running).
    Running,
    /// fal finished; the outputs are being stored.
    Storing,
    Completed,
    Failed,
    Cancelled,
}

use JobStatus::*;

impl JobStatus {
    pub const ALL: [JobStatus; 8] = [
        Receiving, Queued, Submitting, Running, Storing, Completed, Failed, Cancelled,
    ];
    /// Not finished: the runner looks after these.
    pub const UNFINISHED: [JobStatus; 5] = [Receiving, Queued, Submitting, Running, Storing];
    /// Waiting or running, as the per-account queue cap counts them.
    pub const ACTIVE: [JobStatus; 4] = [Queued, Submitting, Running, Storing];
    pub const FINISHED: [JobStatus; 3] = [Completed, Failed, Cancelled];

    /// The only place that says which moves a job may make.
    pub fn can_become(self, next: JobStatus) -> bool {
        matches!(
            (self, next),
            (Receiving, Queued | Failed | Cancelled)
                | (Queued, Submitting | Failed | Cancelled)
                // Back to the queue when fal provably did not take it.
                | (Submitting, Running | Queued | Failed | Cancelled)
                | (Running, Storing | Failed | Cancelled)
                | (Storing, Completed | Failed)
        )
    }

    pub fn is_finished(self) -> bool {
        Self::FINISHED.contains(&self)
    }

    /// What the job is stored as: the column's text.
    pub fn as_str(self) -> &'static str {
        match self {
            Receiving => "receiving",
            Queued => "queued",
            Submitting => "submitting",
            Running => "running",
            Storing => "storing",
            Completed => "completed",
            Failed => "failed",
            Cancelled => "cancelled",
        }
    }

    /// The status stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<JobStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The statuses a job may be in to become `self`.
    pub fn predecessors(self) -> Vec<JobStatus> {
        Self::ALL
            .into_iter()
            .filter(|from| from.can_become(self))
            .collect()
    }
}

crate::text_column::text_column!(JobStatus, "job status");

/// `'a','b',...` for an SQL `IN (...)`: the statuses are ours, never user input.
pub fn sql_list(statuses: &[JobStatus]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_jobs_never_move_and_nothing_returns_to_receiving() {
        for from in JobStatus::ALL {
            for to in JobStatus::ALL {
                if from.is_finished() || to == Receiving {
                    assert!(!from.can_become(to), "{from:?} -> {to:?}");
                }
            }
        }
    }

    #[test]
    fn the_happy_path_and_its_exits_are_allowed() {
        let path = [Receiving, Queued, Submitting, Running, Storing, Completed];
        for pair in path.windows(2) {
            assert!(pair[0].can_become(pair[1]), "{pair:?}");
        }
        for from in JobStatus::UNFINISHED {
            assert!(from.can_become(Failed), "{from:?} can fail");
        }
        assert!(!Queued.can_become(Completed) && !Running.can_become(Completed));
        assert!(!Storing.can_become(Cancelled), "stored outputs are kept");
        assert_eq!(Completed.predecessors(), vec![Storing]);
    }

    #[test]
    fn the_column_text_matches_serde() {
        for s in JobStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(sql_list(&[Queued, Running]), "'queued','running'");
    }

    #[test]
    fn every_status_parses_back_from_its_text() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobStatus::parse("Queued"), None);
        assert_eq!(JobStatus::parse(""), None);
    }
}
