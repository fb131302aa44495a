//! Job changes as Server-Sent Events. Each change gets an id `<boot>-<seq>`; the last few
//! hundred are kept so a reconnecting browser (`Last-Event-ID`) gets what it missed. When that
//! is not possible (a restart, or it fell too far behind) it gets a `resync` event and reloads
//! the job list instead.

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

const KEEP: usize = 1_000;
const HEARTBEAT: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct JobEvent {
    pub seq: u64,
    pub user_id: String,
    pub data: String,
}

pub struct Hub {
    boot: String,
    seq: AtomicU64,
    tx: broadcast::Sender<Arc<JobEvent>>,
    recent: Mutex<VecDeque<Arc<JobEvent>>>,
}

impl Default for Hub {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Hub {
            // Distinguishes this process's ids from a previous run's.
            boot: uuid::Uuid::now_v7().simple().to_string()[20..].to_owned(),
            seq: AtomicU64::new(0),
            tx,
            recent: Mutex::new(VecDeque::with_capacity(KEEP)),
        }
    }
}

impl Hub {
    pub fn publish(&self, user_id: &str, job: &impl serde::Serialize) {
        let data = match serde_json::to_string(job) {
            Ok(data) => data,
            Err(e) => {
                tracing::error!(error = %e, "a job event could not be serialised");
                return;
            }
        };
        let event = Arc::new(JobEvent {
            seq: self.seq.fetch_add(1, Ordering::SeqCst) + 1,
            user_id: user_id.to_owned(),
            data,
        });
        {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.len() == KEEP {
                recent.pop_front();
            }
            recent.push_back(event.clone());
        }
        // No subscribers is fine.
        let _ = self.tx.send(event);
    }

    fn id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.boot)
    }

    /// What a reconnecting client missed: `Ok(events)` when the buffer still covers it,
    /// `Err(())` when it must resync.
    fn missed(&self, user_id: &str, last_event_id: &str) -> Result<Vec<Arc<JobEvent>>, ()> {
        let (boot, seq) = last_event_id.rsplit_once('-').ok_or(())?;
        let seq: u64 = seq.parse().map_err(|_| ())?;
        if boot != self.boot {
            return Err(());
        }
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let oldest = recent.front().map(|e| e.seq).unwrap_or(seq + 1);
        if seq + 1 < oldest {
            return Err(());
        }
        Ok(recent
            .iter()
            .filter(|e| e.seq > seq && e.user_id == user_id)
            .cloned()
            .collect())
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
                    Ok(e) if e.user_id == user_id && e.seq > replayed_up_to => {
                        Some(Ok(hub.to_event(&e)))
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
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
    }

    fn to_event(&self, e: &JobEvent) -> Event {
        Event::default()
            .event("job")
            .id(self.id(e.seq))
            .data(e.data.clone())
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
}
