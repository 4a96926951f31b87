//! The witness: on JupyterHub, every event a lab records is also sent in the
//! background to the course's grader service (`POST <MLSYS_GRADER_URL>/api/witness`
//! with the server's Hub token), which keeps it under the Hub user with its own
//! receive time. The grader then scores what the service witnessed, not what
//! the student's files say.
//!
//! The outbox is the journal itself: the id of the last event the service
//! acknowledged is kept beside it (`events.witnessed`, written atomically), and
//! every event the journal holds after that one awaits the witness, also after
//! a kernel restart. Recording an event only wakes the sender thread (a flag
//! and a condition variable), so a slow or unreachable service never delays or
//! fails a magic or a widget update; the sender retries with a growing pause.
//! It reads the journal, not its own kernel's events, so events another kernel
//! of the same student appended are sent in journal order too (the service
//! stores an event once, whoever sends it).

use crate::grader_client::{describe, GraderService};
use crate::journal::{complete_lines, parse_lines};
use crate::render::palette::Tone;
use mlsys_model::receipt::{WitnessBatch, WitnessReceipt};
use mlsys_model::record::{Event, EventKind};
use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Events per request at most.
const MAX_BATCH: usize = 256;

/// Requests are at least this far apart (the service's per-user rate limit is
/// shared with `%submit`).
const MIN_INTERVAL: Duration = Duration::from_millis(500);

/// The first pause after a failed request; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_secs(1);

/// The longest pause between attempts while the service cannot be reached.
const MAX_PAUSE: Duration = Duration::from_secs(15);

/// With nothing to send, the journal is read again this often (another
/// kernel's events are sent even if that kernel stopped before it could).
const RESCAN: Duration = Duration::from_secs(60);

/// A lab journal's sender to the grader service's witness.
pub struct Witness {
    shared: Arc<Shared>,
}

/// What the kernel and its sender thread share.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// An event was recorded since the sender last looked.
    recorded: bool,
    /// The kernel dropped the witness.
    stop: bool,
    /// Events of the journal, from its start, that the service acknowledged.
    witnessed: usize,
    /// Why the last attempt failed, until one succeeds.
    problem: Option<String>,
}

impl Witness {
    /// Starts the sender of the journal at `journal` to `service`.
    pub fn start(service: GraderService, journal: &Path) -> std::io::Result<Witness> {
        let shared = Arc::new(Shared::default());
        let mut outbox = Outbox::open(journal);
        {
            let mut state = lock(&shared.state);
            state.witnessed = outbox.witnessed();
            state.recorded = true; // send what awaits from before at once
        }
        let sender = Sender {
            service,
            agent: agent(),
            shared: shared.clone(),
        };
        std::thread::Builder::new()
            .name("witness".into())
            .spawn(move || sender.run(&mut outbox))?;
        Ok(Witness { shared })
    }

    /// Tells the sender an event was recorded: a flag and a wake-up, nothing else.
    pub fn notify(&self) {
        lock(&self.shared.state).recorded = true;
        self.shared.changed.notify_all();
    }

    /// How many of the journal's events (from its start) the service acknowledged.
    pub fn witnessed(&self) -> usize {
        lock(&self.shared.state).witnessed
    }

    /// Why the last attempt failed, if it did.
    pub fn problem(&self) -> Option<String> {
        lock(&self.shared.state).problem.clone()
    }

    /// Waits until the service acknowledged at least `events` of the journal's
    /// events or `timeout` passed; returns whether it did.
    pub fn wait_for(&self, events: usize, timeout: Duration) -> bool {
        let state = lock(&self.shared.state);
        let (state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, timeout, |s| s.witnessed < events)
            .unwrap_or_else(|p| p.into_inner());
        state.witnessed >= events
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.changed.notify_all();
    }
}

/// Whether and how a lab's record is witnessed, as `%status` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessStatus {
    /// No grader service is configured (an exchange-only course).
    NoService,
    /// A service is configured but the events cannot be sent, and why.
    Unavailable(String),
    /// Being witnessed: events awaiting the service, and the last failure.
    Running {
        /// Recorded events the service has not acknowledged yet.
        awaiting: usize,
        /// Why the last attempt failed, if it did.
        problem: Option<String>,
    },
}

impl WitnessStatus {
    /// The sentence `%status` shows, and its tone.
    pub fn describe(&self) -> (String, Tone) {
        match self {
            WitnessStatus::NoService => (
                "not witnessed: no grader service is configured (MLSYS_GRADER_URL)".into(),
                Tone::Grey,
            ),
            WitnessStatus::Unavailable(why) => (format!("not witnessed: {why}"), Tone::Orange),
            WitnessStatus::Running {
                awaiting: 0,
                problem: _,
            } => (
                "every event has reached the grader service".into(),
                Tone::Green,
            ),
            WitnessStatus::Running { awaiting, problem } => {
                let events = if *awaiting == 1 { "event" } else { "events" };
                let why = problem
                    .as_ref()
                    .map(|p| format!("; retrying, last attempt: {p}"))
                    .unwrap_or_else(|| "; sending".into());
                (
                    format!("{awaiting} {events} await the grader service's witness{why}"),
                    Tone::Orange,
                )
            }
        }
    }
}

/// The sender thread's side.
struct Sender {
    service: GraderService,
    agent: ureq::Agent,
    shared: Arc<Shared>,
}

impl Sender {
    /// Sends whatever awaits the witness each time an event is recorded (or the
    /// pause after a failure ends), until the witness is dropped.
    fn run(self, outbox: &mut Outbox) {
        let mut pause: Option<Duration> = None;
        let mut last_request: Option<Instant> = None;
        loop {
            {
                let state = lock(&self.shared.state);
                let (mut state, _) = self
                    .shared
                    .changed
                    .wait_timeout_while(state, pause.unwrap_or(RESCAN), |s| !s.recorded && !s.stop)
                    .unwrap_or_else(|p| p.into_inner());
                if state.stop {
                    return;
                }
                state.recorded = false;
            }
            outbox.read_more();
            while let Some(batch) = outbox.next_batch() {
                if let Some(wait) = last_request.and_then(|t| MIN_INTERVAL.checked_sub(t.elapsed()))
                {
                    std::thread::sleep(wait);
                }
                last_request = Some(Instant::now());
                let sent = self.post(&batch);
                let mut state = lock(&self.shared.state);
                match sent {
                    Ok(_) => {
                        outbox.acknowledged(batch.events.len());
                        state.witnessed = outbox.witnessed();
                        state.problem = None;
                        pause = None;
                    }
                    Err(why) => {
                        tracing::info!("witness: {why}");
                        state.problem = Some(why);
                        pause = Some(pause.map_or(FIRST_PAUSE, |p| (p * 2).min(MAX_PAUSE)));
                    }
                }
                let stop = state.stop;
                drop(state);
                self.shared.changed.notify_all();
                if stop || pause.is_some() {
                    break;
                }
            }
        }
    }

    /// POSTs one batch; the error says why in a sentence.
    fn post(&self, batch: &WitnessBatch) -> Result<WitnessReceipt, String> {
        let url = self.service.witness_endpoint();
        let body = serde_json::to_vec(batch).expect("events serialize");
        let mut response = self
            .agent
            .post(&url)
            .header("Authorization", &self.service.authorization())
            .header("Content-Type", "application/json")
            .send(&body[..])
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        match status {
            200 | 201 => serde_json::from_str(&text)
                .map_err(|e| format!("{url} answered with an unreadable receipt: {e}")),
            _ => Err(describe(status, &text)),
        }
    }
}

/// The HTTP client of the sender: short timeouts, no proxy (the service is
/// reached through the Hub's proxy on the Hub's own network).
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into()
}

/// The events of a journal that await the witness: those after the one whose
/// id the cursor file holds.
struct Outbox {
    journal: PathBuf,
    cursor: PathBuf,
    /// Bytes of the journal read so far (the end of a complete line).
    read_to: u64,
    /// Events read so far.
    read: usize,
    /// Events read that the service has not acknowledged, in journal order.
    pending: VecDeque<Event>,
}

impl Outbox {
    /// The outbox of the journal at `journal`: every event after the cursor's.
    fn open(journal: &Path) -> Outbox {
        let mut outbox = Outbox {
            journal: journal.to_path_buf(),
            cursor: cursor_path(journal),
            read_to: 0,
            read: 0,
            pending: VecDeque::new(),
        };
        outbox.read_more();
        let cursor = std::fs::read_to_string(&outbox.cursor)
            .ok()
            .and_then(|text| text.trim().parse::<Uuid>().ok());
        if let Some(at) = cursor.and_then(|id| outbox.pending.iter().position(|e| e.id == id)) {
            outbox.pending.drain(..=at);
        }
        outbox
    }

    /// How many of the journal's events, from its start, were acknowledged.
    fn witnessed(&self) -> usize {
        self.read - self.pending.len()
    }

    /// Reads the journal's new complete lines. A journal that shrank (edited
    /// or replaced) is read again from its start, and sent again whole: the
    /// service stores an event once, and keeps other content under a known id
    /// as evidence.
    fn read_more(&mut self) {
        let read = (|| -> std::io::Result<Vec<u8>> {
            let mut file = std::fs::File::open(&self.journal)?;
            let len = file.metadata()?.len();
            if len < self.read_to {
                self.read_to = 0;
                self.read = 0;
                self.pending.clear();
            }
            file.seek(SeekFrom::Start(self.read_to))?;
            let mut bytes = Vec::new();
            file.take(len - self.read_to).read_to_end(&mut bytes)?;
            Ok(bytes)
        })();
        match read {
            Ok(bytes) => {
                let complete = complete_lines(&bytes);
                let events = parse_lines(&bytes[..complete], &self.journal);
                self.read_to += complete as u64;
                self.read += events.len();
                self.pending.extend(events);
            }
            Err(error) => {
                tracing::warn!("witness: cannot read {}: {error}", self.journal.display())
            }
        }
    }

    /// The next events to send: at most [`MAX_BATCH`], ending at the first
    /// prediction lock, so a lock always reaches the service in a request of
    /// its own, before anything recorded after it.
    fn next_batch(&self) -> Option<WitnessBatch> {
        let mut events = Vec::new();
        for event in self.pending.iter().take(MAX_BATCH) {
            events.push(event.clone());
            if matches!(event.kind, EventKind::PredictionLocked { .. }) {
                break;
            }
        }
        (!events.is_empty()).then_some(WitnessBatch { events })
    }

    /// The first `count` pending events were acknowledged: the cursor moves to
    /// the last of them (temp file and rename; losing it only resends).
    fn acknowledged(&mut self, count: usize) {
        let Some(last) = self.pending.drain(..count).next_back() else {
            return;
        };
        let temp = self
            .cursor
            .with_extension(format!("witnessed.tmp-{}", std::process::id()));
        let written = std::fs::write(&temp, format!("{}\n", last.id))
            .and_then(|()| std::fs::rename(&temp, &self.cursor));
        if let Err(error) = written {
            tracing::warn!("witness: cannot write {}: {error}", self.cursor.display());
        }
    }
}

/// Where the cursor of the journal at `journal` is kept.
fn cursor_path(journal: &Path) -> PathBuf {
    journal.with_file_name("events.witnessed")
}

/// Locks `mutex`, even if a thread panicked holding it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Recorder;
    use crate::testing::{tally, TallySession, TempDir};
    use chrono::Utc;
    use mlsys_model::{Act, Choice, LabSession};
    use std::io::Write;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicU16, Ordering};

    /// Each acknowledged batch: the Authorization header and the events.
    type Batches = Arc<Mutex<Vec<(String, Vec<Event>)>>>;

    /// A loopback witness: answers each POST with `status` (a receipt when 200),
    /// after `hold` lets it; keeps every batch it acknowledged.
    struct FakeWitness {
        url: String,
        status: Arc<AtomicU16>,
        hold: Arc<(Mutex<bool>, Condvar)>,
        batches: Batches,
    }

    impl FakeWitness {
        fn start() -> FakeWitness {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}/services/g", listener.local_addr().unwrap());
            let status = Arc::new(AtomicU16::new(200));
            let hold = Arc::new((Mutex::new(false), Condvar::new()));
            let batches = Arc::new(Mutex::new(Vec::new()));
            let (s, h, b) = (status.clone(), hold.clone(), batches.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { return };
                    let (auth, body, mut stream) = crate::testing::read_request(stream);
                    let (held, release) = &*h;
                    let guard = held.lock().unwrap();
                    drop(release.wait_while(guard, |held| *held).unwrap());
                    let status = s.load(Ordering::SeqCst);
                    let reply = if status == 200 {
                        let batch: WitnessBatch = serde_json::from_slice(&body).unwrap();
                        let stored = batch.events.len() as u32;
                        b.lock().unwrap().push((auth, batch.events));
                        serde_json::to_string(&WitnessReceipt {
                            student: "ada".into(),
                            received_at: Utc::now(),
                            stored,
                            duplicates: 0,
                            conflicts: 0,
                        })
                        .unwrap()
                    } else {
                        r#"{"error":"x","message":"the service is restarting"}"#.to_string()
                    };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                        reply.len()
                    );
                }
            });
            FakeWitness {
                url,
                status,
                hold,
                batches,
            }
        }

        fn service(&self) -> Option<Result<GraderService, String>> {
            GraderService::new(Some(self.url.clone()), Some("tok-9".into()), false)
        }

        fn hold(&self, held: bool) {
            *self.hold.0.lock().unwrap() = held;
            self.hold.1.notify_all();
        }

        fn events(&self) -> Vec<Event> {
            let batches = self.batches.lock().unwrap();
            batches.iter().flat_map(|(_, e)| e.clone()).collect()
        }
    }

    fn lock_event() -> EventKind {
        EventKind::PredictionLocked {
            act: Act::ALL[0],
            choice: Choice::B,
        }
    }

    fn journal_of(recorder: &Recorder<TallySession>) -> Vec<Event> {
        recorder.journal().unwrap().events().unwrap()
    }

    #[test]
    fn every_recorded_event_reaches_the_witness_in_journal_order_with_the_token() {
        let service = FakeWitness::start();
        let home = TempDir::new("witness");
        let mut recorder = Recorder::<TallySession>::open_with(home.path(), service.service());
        for kind in [tally(1), lock_event(), tally(2), tally(3)] {
            recorder.record(kind).unwrap();
        }
        let witness = recorder.witness().unwrap();
        assert!(witness.wait_for(4, Duration::from_secs(20)));
        assert_eq!(service.events(), journal_of(&recorder));
        let batches = service.batches.lock().unwrap();
        assert!(batches.iter().all(|(auth, _)| auth == "token tok-9"));
        for (_, events) in batches.iter() {
            let lock = events
                .iter()
                .position(|e| matches!(e.kind, EventKind::PredictionLocked { .. }));
            assert!(
                lock.is_none_or(|at| at == events.len() - 1),
                "a lock ends its batch: {events:?}"
            );
        }
        drop(batches);
        assert_eq!(
            recorder.witness_status().describe().0,
            "every event has reached the grader service"
        );
    }

    #[test]
    fn a_held_or_failing_service_never_delays_a_record_and_nothing_is_lost_or_doubled() {
        let service = FakeWitness::start();
        service.hold(true);
        let home = TempDir::new("witness-held");
        let mut recorder = Recorder::<TallySession>::open_with(home.path(), service.service());
        // While the service holds the first request, every record returns: if
        // one waited for the service, this loop would never end.
        for n in 1..=20 {
            recorder.record(tally(n)).unwrap();
        }
        let WitnessStatus::Running { awaiting, .. } = recorder.witness_status() else {
            panic!("{:?}", recorder.witness_status())
        };
        assert!(awaiting >= 19, "{awaiting}");
        service.status.store(503, Ordering::SeqCst);
        service.hold(false);
        let witness = recorder.witness().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while witness.problem().is_none() && Instant::now() < deadline {
            witness.wait_for(usize::MAX, Duration::from_millis(50));
        }
        let (said, _) = recorder.witness_status().describe();
        assert!(
            said.starts_with("20 events await the grader service's witness; retrying")
                && said.contains("HTTP 503: the service is restarting"),
            "{said}"
        );
        service.status.store(200, Ordering::SeqCst);
        recorder.record(tally(21)).unwrap();
        let witness = recorder.witness().unwrap();
        assert!(witness.wait_for(21, Duration::from_secs(30)));
        assert_eq!(service.events(), journal_of(&recorder));
    }

    #[test]
    fn after_a_restart_only_what_was_not_acknowledged_is_sent() {
        let service = FakeWitness::start();
        let home = TempDir::new("witness-restart");
        let mut first = Recorder::<TallySession>::open_with(home.path(), service.service());
        first.record(tally(1)).unwrap();
        first.record(tally(2)).unwrap();
        assert!(first
            .witness()
            .unwrap()
            .wait_for(2, Duration::from_secs(20)));
        drop(first);
        // Recorded while no service was configured: awaits the witness.
        let mut offline = Recorder::<TallySession>::open_with(home.path(), None);
        offline.record(tally(3)).unwrap();
        assert_eq!(offline.witness_status(), WitnessStatus::NoService);
        drop(offline);

        let again = Recorder::<TallySession>::open_with(home.path(), service.service());
        assert!(again
            .witness()
            .unwrap()
            .wait_for(3, Duration::from_secs(20)));
        let events = journal_of(&again);
        assert_eq!(service.events(), events, "each event sent once, in order");
        assert_eq!(
            std::fs::read_to_string(home.path().join("labs/t_tally/events.witnessed")).unwrap(),
            format!("{}\n", events[2].id)
        );
        assert_eq!(TallySession::replay(&events).unwrap().total, 6);
    }
}
