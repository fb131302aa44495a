//! Job changes as Server-Sent Events, the same on every node.
//!
//! Every change is a row in the event log (`job_events`, `jobs::event_log`) and its row id
//! is the event's `id:` on every node. The node that made the change hands it to its own [`Hub`]
//! at once; the relay (`jobs::relay`) brings the other nodes' rows in by polling the log. The hub
//! sends events to its streams strictly in id order and only once every lower id has been
//! sent or given up (the watermark `delivered`), so "I have seen id N" means the same on every
//! node and a browser may resume (`Last-Event-ID`) on any of them: it gets exactly the events
//! after N.
//!
//! In-order delivery and gaps: an id can arrive before a lower one: another node's change not
//! polled yet, or (Postgres) an id whose insert had not committed yet when a higher one did,
//! since identity values are handed out before commit. Such an event waits in `pending`, and the
//! relay is asked to poll at once (then keeps polling briefly), so the lower id is usually in
//! within milliseconds. An id that is still missing after [`GAP_WAIT`] is given up: an insert
//! that failed after taking its id leaves a hole that never fills, and it must not hold the
//! stream back for ever. A commit later than that is the one way an event is lost, and a
//! browser resuming across it may miss it; a single-row insert committing seconds late would
//! have bigger troubles.
//!
//! Replay: the last events sent are kept (at most [`KEEP`] events and [`KEEP_BYTES`] of data)
//! so a reconnecting browser gets what it missed. When that is not possible (an id from before
//! this node started following the log, which includes a previous run of it; one that fell out
//! of the buffer; garbage) it gets a `resync` event and reloads the job list instead. An id
//! ahead of this node (the browser came from a node that is further along) is waited for, up
//! to [`CATCH_UP`], while the relay polls.
//!
//! Memory is bounded in bytes, not only in events: the broadcast channel carries only an
//! event's id and user, and each stream reads the data from the buffer; an event over
//! [`MAX_EVENT_BYTES`] (a job with huge parameters or error details) is not kept at all, and
//! its user's streams get a `resync` in its place. Events held back by a gap are bounded the
//! same way: past the limits the gap is given up at once.

use std::{
    collections::{BTreeMap, VecDeque},
    convert::Infallible,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt, stream};
use tokio::sync::{Notify, broadcast, watch};
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
/// How long a missing id may hold back the ones after it before it is given up.
pub const GAP_WAIT: Duration = Duration::from_secs(2);
/// How long a stream resuming from an id this node has not reached yet waits for it. More than
/// [`GAP_WAIT`], so a node behind a gap another node already gave up still catches up.
const CATCH_UP: Duration = Duration::from_secs(3);

#[derive(Debug)]
pub struct JobEvent {
    /// The event log's id: the same on every node.
    pub id: u64,
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
    id: u64,
    user_id: Arc<str>,
}

/// The events sent, oldest first, in id order.
#[derive(Default)]
struct Recent {
    events: VecDeque<Arc<JobEvent>>,
    bytes: usize,
    /// The newest id let go of: a resume from below it cannot be served.
    dropped_up_to: u64,
}

impl Recent {
    fn push(&mut self, event: Arc<JobEvent>) {
        self.bytes += event.cost();
        self.events.push_back(event);
        while self.events.len() > KEEP || self.bytes > KEEP_BYTES {
            match self.events.pop_front() {
                Some(old) => {
                    self.bytes -= old.cost();
                    self.dropped_up_to = old.id;
                }
                None => break,
            }
        }
    }

    /// The event `id`, if still kept (ids ascend, so a binary search).
    fn get(&self, id: u64) -> Option<&Arc<JobEvent>> {
        let at = self.events.partition_point(|e| e.id < id);
        self.events.get(at).filter(|e| e.id == id)
    }
}

/// An event waiting for a lower id; `None` for an id that carries nothing to send (its job is
/// gone, or a later id of the same job carries the job's state).
type Held = Option<Arc<JobEvent>>;

struct Inner {
    /// Ids at or below this happened before this node followed the log.
    start: u64,
    /// Every id up to here has been sent to the streams, or given up.
    delivered: u64,
    pending: BTreeMap<u64, Held>,
    pending_bytes: usize,
    /// The missing id holding `pending` back, and since when.
    blocked: Option<(u64, Instant)>,
    /// The highest id known to exist: the newest the relay has read, or a local one.
    known: u64,
    polls_started: u64,
    polls_done: u64,
    recent: Recent,
}

impl Inner {
    fn cost(held: &Held) -> usize {
        held.as_ref().map_or(EVENT_OVERHEAD, |e| e.cost())
    }
}

/// What a reconnecting client gets.
enum Resume {
    /// The user's events after its id, and the watermark they reach.
    Replay(Vec<Arc<JobEvent>>, u64),
    /// It reloads instead; the resync event carries this id.
    Resync(u64),
    /// This node has not reached the id yet.
    Ahead { known: u64, polls_done: u64 },
}

pub struct Hub {
    tx: broadcast::Sender<Note>,
    inner: Mutex<Inner>,
    heartbeat: Duration,
    /// Bumped whenever the watermark moves or a poll ends, for streams waiting to resume.
    progress: watch::Sender<u64>,
    /// Asks the relay to poll now.
    poll_now: Notify,
    catch_up: Duration,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(HEARTBEAT, 0)
    }
}

impl Hub {
    /// A hub whose streams send a heartbeat at least every `heartbeat` (at most every 15 s),
    /// following the event log after id `start` (its newest id when the node starts).
    pub fn new(heartbeat: Duration, start: u64) -> Self {
        let (tx, _) = broadcast::channel(1024);
        Hub {
            tx,
            inner: Mutex::new(Inner {
                start,
                delivered: start,
                pending: BTreeMap::new(),
                pending_bytes: 0,
                blocked: None,
                known: start,
                polls_started: 0,
                polls_done: 0,
                recent: Recent {
                    dropped_up_to: start,
                    ..Recent::default()
                },
            }),
            heartbeat: heartbeat.clamp(Duration::from_millis(100), HEARTBEAT),
            progress: watch::Sender::new(0),
            poll_now: Notify::new(),
            catch_up: CATCH_UP,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `job`, the state of one of `user_id`'s jobs, as event `id` of the log: at once,
    /// unless a lower id has not arrived yet.
    pub fn publish(&self, id: u64, user_id: &str, job: &impl serde::Serialize) {
        let data = match serde_json::to_string(job) {
            Ok(data) => data,
            Err(e) => {
                tracing::error!(error = %e, "a job event could not be serialised");
                // Still counted, so the ids after it are not held back.
                self.accept(id, None);
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
        self.accept(
            id,
            Some(Arc::new(JobEvent {
                id,
                user_id: Arc::from(user_id),
                data,
            })),
        );
    }

    /// Counts event `id` as arrived with nothing to send.
    pub(crate) fn skip(&self, id: u64) {
        self.accept(id, None);
    }

    /// Whether event `id` has arrived (sent, given up or waiting for a lower one).
    pub(crate) fn knows(&self, id: u64) -> bool {
        let inner = self.lock();
        id <= inner.delivered || inner.pending.contains_key(&id)
    }

    /// The watermark: every id up to it has been sent or given up.
    pub(crate) fn delivered(&self) -> u64 {
        self.lock().delivered
    }

    /// Whether events wait for a missing id (the relay then polls more often).
    pub(crate) fn blocked(&self) -> bool {
        self.lock().blocked.is_some()
    }

    /// Resolves when a stream or a held-back event asks the relay to poll now.
    pub(crate) async fn poll_requested(&self) {
        self.poll_now.notified().await;
    }

    pub(crate) fn poll_started(&self) {
        self.lock().polls_started += 1;
    }

    /// A poll ended; `newest` is the highest id it read (`None` when it failed). Gaps older
    /// than `gap_wait` are given up.
    pub(crate) fn poll_done(&self, newest: Option<u64>, gap_wait: Duration) {
        {
            let mut inner = self.lock();
            inner.polls_done += 1;
            if let Some(newest) = newest {
                inner.known = inner.known.max(newest);
            }
            if let Some((_, since)) = inner.blocked
                && since.elapsed() >= gap_wait
            {
                self.give_up_gap(&mut inner);
            }
            self.note_blocked(&mut inner);
        }
        self.progress.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn accept(&self, id: u64, event: Held) {
        let blocked = {
            let mut inner = self.lock();
            if id <= inner.delivered || inner.pending.contains_key(&id) {
                return; // sent already (e.g. the relay read a local change first)
            }
            inner.known = inner.known.max(id);
            inner.pending_bytes += Inner::cost(&event);
            inner.pending.insert(id, event);
            self.drain(&mut inner);
            while inner.pending.len() > KEEP || inner.pending_bytes > KEEP_BYTES {
                tracing::warn!(
                    missing = inner.delivered.saturating_add(1),
                    held = inner.pending.len(),
                    "too many job events wait for a missing one; giving it up"
                );
                self.give_up_gap(&mut inner);
            }
            self.note_blocked(&mut inner)
        };
        if blocked {
            self.poll_now.notify_one();
        }
        self.progress.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Sends the held events that no longer wait for anything. Under the lock, so they enter
    /// the channel in id order whoever calls.
    fn drain(&self, inner: &mut Inner) {
        while let Some(entry) = inner.pending.first_entry()
            && *entry.key() == inner.delivered.saturating_add(1)
        {
            let (id, held) = entry.remove_entry();
            inner.pending_bytes -= Inner::cost(&held);
            inner.delivered = id;
            if let Some(event) = held {
                let note = Note {
                    id,
                    user_id: event.user_id.clone(),
                };
                inner.recent.push(event);
                // No subscribers is fine.
                let _ = self.tx.send(note);
            }
        }
    }

    /// Moves the watermark past the missing ids below the first held event.
    fn give_up_gap(&self, inner: &mut Inner) {
        let Some(first) = inner.pending.keys().next().copied() else {
            return;
        };
        tracing::debug!(
            from = inner.delivered.saturating_add(1),
            to = first - 1,
            "job event ids never arrived; going on without them"
        );
        inner.delivered = first - 1;
        self.drain(inner);
    }

    /// Records whether (and since when) events wait for a missing id; returns whether they do.
    fn note_blocked(&self, inner: &mut Inner) -> bool {
        if inner.pending.is_empty() {
            inner.blocked = None;
            return false;
        }
        let missing = inner.delivered.saturating_add(1);
        if inner.blocked.map(|(id, _)| id) != Some(missing) {
            inner.blocked = Some((missing, Instant::now()));
        }
        true
    }

    /// What a reconnecting client missed. Any text is safe here: garbage, negative numbers,
    /// numbers past `u64::MAX` and ids from before this node followed the log all mean a resync.
    fn missed(&self, user_id: &str, last_event_id: &str) -> Resume {
        let inner = self.lock();
        let resync = Resume::Resync(inner.delivered);
        let Some(last) = parse_id(last_event_id) else {
            return resync;
        };
        // At or before the start: from a previous run, or older than this node. Changes of
        // that time may never have been logged (a node stopped between a job write and its
        // event), so the client reloads.
        if last <= inner.start || last < inner.recent.dropped_up_to {
            return resync;
        }
        if last > inner.delivered {
            return Resume::Ahead {
                known: inner.known,
                polls_done: inner.polls_done,
            };
        }
        let mine: Vec<Arc<JobEvent>> = inner
            .recent
            .events
            .iter()
            .filter(|e| e.id > last && &*e.user_id == user_id)
            .cloned()
            .collect();
        // One of them was too large to keep: the client reloads instead.
        if mine.iter().any(|e| e.data.is_none()) {
            return resync;
        }
        Resume::Replay(mine, inner.delivered)
    }

    /// [`Hub::missed`], waiting (up to `catch_up`) for this node to reach an id from one that
    /// is further along. The id is from the future (a resync) once a poll that started after
    /// the request ends without having seen it.
    async fn resume(&self, user_id: &str, last_event_id: &str) -> (Vec<Event>, u64) {
        let deadline = tokio::time::Instant::now() + self.catch_up;
        let mut changes = self.progress.subscribe();
        let mut asked: Option<u64> = None;
        loop {
            match self.missed(user_id, last_event_id) {
                Resume::Replay(events, up_to) => {
                    return (events.iter().map(|e| self.to_event(e)).collect(), up_to);
                }
                Resume::Resync(at) => return (vec![resync(at)], at),
                Resume::Ahead { known, polls_done } => {
                    let future = || parse_id(last_event_id).is_none_or(|last| last > known);
                    match asked {
                        Some(asked) if polls_done > asked && future() => {
                            let at = self.delivered();
                            return (vec![resync(at)], at);
                        }
                        Some(_) => {}
                        None => {
                            asked = Some(self.lock().polls_started);
                            self.poll_now.notify_one();
                        }
                    }
                    let waited = tokio::time::timeout_at(deadline, changes.changed()).await;
                    if !matches!(waited, Ok(Ok(()))) {
                        let at = self.delivered();
                        return (vec![resync(at)], at);
                    }
                }
            }
        }
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
        let hub = self.clone();
        let opening = async move {
            let (first, replayed_up_to) = match last_event_id.as_deref() {
                None => (vec![Event::default().event("ready").data("{}")], 0),
                Some(last) => hub.resume(&user_id, last).await,
            };
            (first, replayed_up_to, live, hub, user_id)
        };
        let events =
            stream::once(opening).flat_map(|(first, replayed_up_to, live, hub, user_id)| {
                let live = live.filter_map(move |item| {
                    let hub = hub.clone();
                    let user_id = user_id.clone();
                    async move {
                        match item {
                            Ok(note) if *note.user_id == *user_id && note.id > replayed_up_to => {
                                Some(Ok(hub.live_event(note.id)))
                            }
                            Ok(_) => None,
                            // Fell behind the channel: the client reloads instead of missing
                            // changes.
                            Err(BroadcastStreamRecvError::Lagged(_)) => {
                                Some(Ok(resync(hub.delivered())))
                            }
                        }
                    }
                });
                stream::iter(first.into_iter().map(Ok)).chain(live)
            });
        Sse::new(events.take_until(stop))
            .keep_alive(KeepAlive::new().interval(self.heartbeat).text("heartbeat"))
    }

    /// The event `id` for a live stream; a `resync` when it is too large or already pushed out
    /// of the buffer.
    fn live_event(&self, id: u64) -> Event {
        let (event, delivered) = {
            let inner = self.lock();
            (inner.recent.get(id).cloned(), inner.delivered)
        };
        match event {
            Some(e) if e.data.is_some() => self.to_event(&e),
            _ => resync(delivered),
        }
    }

    fn to_event(&self, e: &JobEvent) -> Event {
        Event::default()
            .event("job")
            .id(e.id.to_string())
            .data(e.data.as_deref().unwrap_or("{}"))
    }
}

/// A resync, carrying the watermark as its id: resuming from it later replays what came after.
fn resync(at: u64) -> Event {
    Event::default()
        .event("resync")
        .id(at.to_string())
        .data("{}")
}

/// An event id as this server writes them: decimal digits only.
fn parse_id(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replayed(hub: &Hub, user: &str, last: &str) -> Option<Vec<u64>> {
        match hub.missed(user, last) {
            Resume::Replay(events, _) => Some(events.iter().map(|e| e.id).collect()),
            _ => None,
        }
    }

    fn is_resync(hub: &Hub, user: &str, last: &str) -> bool {
        matches!(hub.missed(user, last), Resume::Resync(_))
    }

    #[test]
    fn a_client_gets_only_its_own_missed_events() {
        let hub = Hub::new(HEARTBEAT, 10);
        hub.publish(11, "ada", &json!({"n": 1}));
        hub.publish(12, "bob", &json!({"n": 2}));
        hub.publish(13, "ada", &json!({"n": 3}));
        assert_eq!(replayed(&hub, "ada", "11"), Some(vec![13]));
        assert_eq!(replayed(&hub, "bob", "11"), Some(vec![12]));
        assert_eq!(replayed(&hub, "ada", "13"), Some(vec![]));
    }

    #[test]
    fn an_id_from_before_the_start_or_garbage_asks_for_a_resync() {
        let hub = Hub::new(HEARTBEAT, 10);
        hub.publish(11, "ada", &json!({}));
        for last in [
            "9",
            "10",
            "otherboot-11",
            "nonsense",
            "",
            "+11",
            " 11",
            "11.0",
        ] {
            assert!(is_resync(&hub, "ada", last), "{last:?}");
        }
    }

    #[test]
    fn ids_arriving_out_of_order_are_sent_in_order() {
        let hub = Hub::new(HEARTBEAT, 0);
        let mut notes = hub.tx.subscribe();
        hub.publish(2, "ada", &json!({"n": 2}));
        hub.publish(3, "ada", &json!({"n": 3}));
        assert_eq!(hub.delivered(), 0, "2 and 3 wait for 1");
        assert!(hub.blocked());
        assert!(hub.knows(3) && !hub.knows(1));
        hub.skip(1);
        assert_eq!(hub.delivered(), 3);
        assert!(!hub.blocked());
        let ids: Vec<u64> = std::iter::from_fn(|| notes.try_recv().ok())
            .map(|n| n.id)
            .collect();
        assert_eq!(ids, vec![2, 3]);
        hub.publish(2, "ada", &json!({"n": "again"}));
        assert_eq!(hub.lock().recent.events.len(), 2, "a repeat is dropped");
    }

    #[test]
    fn a_gap_is_given_up_after_the_wait_and_the_late_id_is_ignored() {
        let hub = Hub::new(HEARTBEAT, 0);
        hub.publish(2, "ada", &json!({}));
        hub.poll_done(Some(2), Duration::from_secs(60));
        assert_eq!(hub.delivered(), 0, "still waiting for 1");
        hub.poll_done(Some(2), Duration::ZERO);
        assert_eq!(hub.delivered(), 2, "1 given up");
        hub.publish(1, "ada", &json!({}));
        assert!(hub.lock().recent.get(1).is_none());
    }

    #[test]
    fn held_events_are_bounded() {
        let hub = Hub::new(HEARTBEAT, 0);
        for id in 2..(KEEP as u64 + 10) {
            hub.publish(id, "ada", &json!({}));
        }
        let inner = hub.lock();
        assert!(inner.pending.len() <= KEEP);
        assert!(inner.delivered > 1, "the gap was given up");
    }

    #[test]
    fn falling_out_of_the_buffer_asks_for_a_resync() {
        let hub = Hub::default();
        for id in 1..=(KEEP as u64 + 10) {
            hub.publish(id, "ada", &json!({}));
        }
        assert!(is_resync(&hub, "ada", "2"));
        assert!(replayed(&hub, "ada", &KEEP.to_string()).is_some());
    }

    #[tokio::test]
    async fn any_last_event_id_number_asks_for_a_resync_without_overflowing() {
        let mut hub = Hub::new(HEARTBEAT, 1);
        hub.catch_up = Duration::from_millis(50);
        hub.publish(2, "ada", &json!({}));
        for last in [
            u64::MAX.to_string(),
            (u64::MAX - 1).to_string(),
            "18446744073709551616".to_owned(),
            "99999999999999999999999999".to_owned(),
            "-1".to_owned(),
            "3".to_owned(),
        ] {
            let (events, _) = hub.resume("ada", &last).await;
            assert_eq!(events.len(), 1, "{last}");
            assert!(format!("{:?}", events[0]).contains("resync"), "{last}");
        }
        assert_eq!(
            replayed(&hub, "ada", "2"),
            Some(vec![]),
            "the current id is fine"
        );
    }

    #[tokio::test]
    async fn an_id_ahead_of_this_node_is_waited_for() {
        let hub = Arc::new(Hub::new(HEARTBEAT, 0));
        hub.publish(1, "ada", &json!({"n": 1}));
        let resuming = {
            let hub = hub.clone();
            tokio::spawn(async move { hub.resume("ada", "2").await })
        };
        // What the relay does when asked: it reads id 2 (another node's), then id 3.
        hub.poll_requested().await;
        hub.poll_started();
        hub.publish(2, "ada", &json!({"n": 2}));
        hub.publish(3, "ada", &json!({"n": 3}));
        hub.poll_done(Some(3), GAP_WAIT);
        let (events, up_to) = resuming.await.unwrap();
        assert_eq!(up_to, 3);
        assert_eq!(events.len(), 1, "only 3 was missed");
        let text = format!("{:?}", events[0]);
        assert!(text.contains("id: 3"), "{text}");
    }

    #[tokio::test]
    async fn an_id_no_poll_has_seen_is_from_the_future() {
        let hub = Arc::new(Hub::new(HEARTBEAT, 0));
        hub.publish(1, "ada", &json!({}));
        let resuming = {
            let hub = hub.clone();
            tokio::spawn(async move { hub.resume("ada", "7").await })
        };
        hub.poll_requested().await;
        hub.poll_started();
        hub.poll_done(Some(1), GAP_WAIT);
        let started = Instant::now();
        let (events, _) = resuming.await.unwrap();
        assert!(format!("{:?}", events[0]).contains("resync"));
        assert!(started.elapsed() < CATCH_UP, "without waiting it out");
    }

    #[test]
    fn the_buffer_is_bounded_in_bytes_as_well_as_events() {
        let hub = Hub::default();
        let big = "x".repeat(400 * 1024);
        for id in 1..=100 {
            hub.publish(id, "ada", &json!({ "params": big }));
        }
        let inner = hub.lock();
        let recent = &inner.recent;
        assert!(recent.bytes <= KEEP_BYTES, "{} bytes kept", recent.bytes);
        assert!(recent.events.len() < 100, "old events were let go");
        let counted: usize = recent.events.iter().map(|e| e.cost()).sum();
        assert_eq!(counted, recent.bytes, "the running total matches");
    }

    #[test]
    fn an_event_too_large_to_keep_becomes_a_resync_for_its_user() {
        let hub = Hub::default();
        hub.publish(1, "ada", &json!({ "n": 1 }));
        hub.publish(2, "ada", &json!({ "params": "x".repeat(MAX_EVENT_BYTES) }));
        hub.publish(3, "bob", &json!({ "n": 3 }));
        let kept = hub.lock().recent.get(2).cloned().unwrap();
        assert!(kept.data.is_none(), "its data is not kept");
        assert!(is_resync(&hub, "ada", "1"), "ada reloads");
        assert_eq!(replayed(&hub, "bob", "1"), Some(vec![3]), "bob replays");
    }
}
