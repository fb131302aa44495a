//! Job changes as Server-Sent Events. Each change gets an id `<boot>-<seq>`; the last ones are
//! kept (at most [`KEEP`] events and [`KEEP_BYTES`] of data) so a reconnecting browser
//! (`Last-Event-ID`) gets what it missed. When that is not possible (a restart, or it fell too
//! far behind) it gets a `resync` event and reloads the job list instead.
//!
//! Memory is bounded in bytes, not only in events: the broadcast channel carries only an
//! event's number and user, and each stream reads the data from the buffer; an event over
//! [`MAX_EVENT_BYTES`] (a job with huge parameters or error details) is not kept at all, and
//! its user's streams get a `resync` in its place.

use std::{
    collections::VecDeque,
    convert::Infallible,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::broadcast;
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};

/// Events kept for replay.
const KEEP: usize = 1_000;
/// Bytes of event data kept for replay.
const KEEP_BYTES: usize = 8 * 1024 * 1024;
/// A job event larger than this is replaced by a `resync` for its user.
const MAX_EVENT_BYTES: usize = 512 * 1024;
/// What one buffered event costs besides its data (ids, the `Arc`, the queue slot).
const EVENT_OVERHEAD: usize = 96;
/// Comments sent on a quiet stream, so proxies and the server's own idle timeout keep it open.
const HEARTBEAT: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct JobEvent {
    pub seq: u64,
    pub user_id: Arc<str>,
    /// The job as JSON; `None` when it was over [`MAX_EVENT_BYTES`].
    pub data: Option<String>,
}

impl JobEvent {
    fn cost(&self) -> usize {
        EVENT_OVERHEAD + self.user_id.len() + self.data.as_ref().map_or(0, String::len)
    }
}

/// What the broadcast channel carries: which event, for whom. A few dozen bytes, however many
/// slow subscribers keep old ones in the channel.
#[derive(Debug, Clone)]
struct Note {
    seq: u64,
    user_id: Arc<str>,
}

#[derive(Default)]
struct Recent {
    events: VecDeque<Arc<JobEvent>>,
    bytes: usize,
}

impl Recent {
    fn push(&mut self, event: Arc<JobEvent>) {
        self.bytes += event.cost();
        self.events.push_back(event);
        while self.events.len() > KEEP || self.bytes > KEEP_BYTES {
            match self.events.pop_front() {
                Some(old) => self.bytes -= old.cost(),
                None => break,
            }
        }
    }

    /// The event numbered `seq`, if still kept (numbers ascend, so a binary search).
    fn get(&self, seq: u64) -> Option<&Arc<JobEvent>> {
        let at = self.events.partition_point(|e| e.seq < seq);
        self.events.get(at).filter(|e| e.seq == seq)
    }
}

pub struct Hub {
    boot: String,
    seq: AtomicU64,
    tx: broadcast::Sender<Note>,
    recent: Mutex<Recent>,
    heartbeat: Duration,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(HEARTBEAT)
    }
}

impl Hub {
    /// A hub whose streams send a heartbeat at least every `heartbeat` (at most every 15 s).
    pub fn new(heartbeat: Duration) -> Self {
        let (tx, _) = broadcast::channel(1024);
        Hub {
            // Distinguishes this process's ids from a previous run's.
            boot: uuid::Uuid::now_v7().simple().to_string()[20..].to_owned(),
            seq: AtomicU64::new(0),
            tx,
            recent: Mutex::new(Recent::default()),
            heartbeat: heartbeat.clamp(Duration::from_millis(100), HEARTBEAT),
        }
    }

    pub fn publish(&self, user_id: &str, job: &impl serde::Serialize) {
        let data = match serde_json::to_string(job) {
            Ok(data) => data,
            Err(e) => {
                tracing::error!(error = %e, "a job event could not be serialised");
                return;
            }
        };
        let data = if data.len() > MAX_EVENT_BYTES {
            tracing::debug!(
                bytes = data.len(),
                "a job event is too large to send; its user's streams resync instead"
            );
            None
        } else {
            Some(data)
        };
        let user_id: Arc<str> = Arc::from(user_id);
        // Numbered and buffered under the lock, so the buffer stays in order.
        let seq = {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            let seq = self.seq.fetch_add(1, Ordering::SeqCst).saturating_add(1);
            recent.push(Arc::new(JobEvent {
                seq,
                user_id: user_id.clone(),
                data,
            }));
            seq
        };
        // No subscribers is fine.
        let _ = self.tx.send(Note { seq, user_id });
    }

    fn id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.boot)
    }

    /// What a reconnecting client missed: `Ok(events)` when the buffer still covers it,
    /// `Err(())` when it must resync. Any number is safe here: ids from another run, from the
    /// future, or past `u64::MAX` all mean a resync, never an overflow.
    fn missed(&self, user_id: &str, last_event_id: &str) -> Result<Vec<Arc<JobEvent>>, ()> {
        let (boot, seq) = last_event_id.rsplit_once('-').ok_or(())?;
        let seq: u64 = seq.parse().map_err(|_| ())?;
        if boot != self.boot {
            return Err(());
        }
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.seq.load(Ordering::SeqCst);
        if seq > current {
            return Err(());
        }
        let oldest = recent
            .events
            .front()
            .map_or(current.saturating_add(1), |e| e.seq);
        if seq.saturating_add(1) < oldest {
            return Err(());
        }
        let mine: Vec<Arc<JobEvent>> = recent
            .events
            .iter()
            .filter(|e| e.seq > seq && &*e.user_id == user_id)
            .cloned()
            .collect();
        // One of them was too large to keep: the client reloads instead.
        if mine.iter().any(|e| e.data.is_none()) {
            return Err(());
        }
        Ok(mine)
    }

    /// The user's events until `stop` resolves (the server shuts down, or the session ends:
    /// neither may wait on an open tab).
    pub fn stream<Stop: Future<Output = ()> + Send + 'static>(
        self: &Arc<Self>,
        user_id: String,
        last_event_id: Option<String>,
        stop: Stop,
    ) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<Stop>> {
        // Subscribe before reading the buffer so nothing falls between the two.
        let live = BroadcastStream::new(self.tx.subscribe());
        let (first, replayed_up_to): (Vec<Event>, u64) = match last_event_id.as_deref() {
            None => (vec![Event::default().event("ready").data("{}")], 0),
            Some(last) => match self.missed(&user_id, last) {
                Ok(events) => {
                    let up_to = events.last().map(|e| e.seq).unwrap_or(0);
                    (events.iter().map(|e| self.to_event(e)).collect(), up_to)
                }
                Err(()) => (vec![self.resync()], 0),
            },
        };
        let hub = self.clone();
        let live = live.filter_map(move |item| {
            let hub = hub.clone();
            let user_id = user_id.clone();
            async move {
                match item {
                    Ok(note) if *note.user_id == *user_id && note.seq > replayed_up_to => {
                        Some(Ok(hub.live_event(note.seq)))
                    }
                    Ok(_) => None,
                    // Fell behind the channel: the client reloads instead of missing changes.
                    Err(BroadcastStreamRecvError::Lagged(_)) => Some(Ok(hub.resync())),
                }
            }
        });
        Sse::new(
            stream::iter(first.into_iter().map(Ok))
                .chain(live)
                .take_until(stop),
        )
        .keep_alive(KeepAlive::new().interval(self.heartbeat).text("heartbeat"))
    }

    /// The event numbered `seq` for a live stream; a `resync` when it is too large or already
    /// pushed out of the buffer.
    fn live_event(&self, seq: u64) -> Event {
        let event = {
            let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent.get(seq).cloned()
        };
        match event {
            Some(e) if e.data.is_some() => self.to_event(&e),
            _ => self.resync(),
        }
    }

    fn to_event(&self, e: &JobEvent) -> Event {
        Event::default()
            .event("job")
            .id(self.id(e.seq))
            .data(e.data.as_deref().unwrap_or("{}"))
    }

    fn resync(&self) -> Event {
        let seq = self.seq.load(Ordering::SeqCst);
        Event::default().event("resync").id(self.id(seq)).data("{}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_client_gets_only_its_own_missed_events() {
        let hub = Hub::default();
        hub.publish("ada", &json!({"n": 1}));
        hub.publish("bob", &json!({"n": 2}));
        hub.publish("ada", &json!({"n": 3}));
        let missed = hub.missed("ada", &hub.id(1)).unwrap();
        assert_eq!(missed.len(), 1);
        assert_eq!(missed[0].seq, 3);
    }

    #[test]
    fn an_id_from_another_run_or_garbage_asks_for_a_resync() {
        let hub = Hub::default();
        hub.publish("ada", &json!({}));
        assert!(hub.missed("ada", "otherboot-1").is_err());
        assert!(hub.missed("ada", "nonsense").is_err());
    }

    #[test]
    fn falling_out_of_the_buffer_asks_for_a_resync() {
        let hub = Hub::default();
        for _ in 0..(KEEP + 10) {
            hub.publish("ada", &json!({}));
        }
        assert!(hub.missed("ada", &hub.id(2)).is_err());
        assert!(hub.missed("ada", &hub.id(KEEP as u64)).is_ok());
    }

    #[test]
    fn any_last_event_id_number_asks_for_a_resync_without_overflowing() {
        let hub = Hub::default();
        hub.publish("ada", &json!({}));
        for seq in [
            u64::MAX.to_string(),
            (u64::MAX - 1).to_string(),
            "18446744073709551616".to_owned(),
            "99999999999999999999999999".to_owned(),
            "-1".to_owned(),
            "2".to_owned(),
        ] {
            let id = format!("{}-{seq}", hub.boot);
            assert!(hub.missed("ada", &id).is_err(), "{id}");
        }
        assert!(
            hub.missed("ada", &hub.id(1)).is_ok(),
            "the current id is fine"
        );
        assert!(hub.missed("ada", &hub.id(0)).is_ok(), "so is the start");
    }

    #[test]
    fn an_empty_buffer_and_the_highest_id_do_not_overflow() {
        let hub = Hub::default();
        hub.seq.store(u64::MAX, Ordering::SeqCst);
        assert!(hub.missed("ada", &hub.id(u64::MAX)).is_ok());
    }

    #[test]
    fn the_buffer_is_bounded_in_bytes_as_well_as_events() {
        let hub = Hub::default();
        let big = "x".repeat(400 * 1024);
        for _ in 0..100 {
            hub.publish("ada", &json!({ "params": big }));
        }
        let recent = hub.recent.lock().unwrap();
        assert!(recent.bytes <= KEEP_BYTES, "{} bytes kept", recent.bytes);
        assert!(recent.events.len() < 100, "old events were let go");
        let counted: usize = recent.events.iter().map(|e| e.cost()).sum();
        assert_eq!(counted, recent.bytes, "the running total matches");
    }

    #[test]
    fn an_event_too_large_to_keep_becomes_a_resync_for_its_user() {
        let hub = Hub::default();
        hub.publish("ada", &json!({ "n": 1 }));
        hub.publish("ada", &json!({ "params": "x".repeat(MAX_EVENT_BYTES) }));
        hub.publish("bob", &json!({ "n": 3 }));
        let kept = hub.recent.lock().unwrap().get(2).cloned().unwrap();
        assert!(kept.data.is_none(), "its data is not kept");
        assert!(hub.missed("ada", &hub.id(1)).is_err(), "ada reloads");
        assert_eq!(
            hub.missed("bob", &hub.id(1)).unwrap().len(),
            1,
            "bob replays"
        );
    }
}
