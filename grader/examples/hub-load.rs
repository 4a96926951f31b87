//! The load generator of `make bench-hub` (driven by `tools/bench-hub`): a
//! class of students, each with their own JupyterHub token, hands in to the
//! grader service as kernels do: about `--events` lab events witnessed in
//! batches (`POST /api/witness`), then one submission of those same events
//! (`POST /api/submissions`), as fast as `--concurrency` blocking clients
//! (each with one kept-alive connection) allow.
//!
//! Phases: `cold` (each student's first request, whose token the service has
//! never seen, so it asks the Hub), then with every token already checked the
//! remaining witness batches and one submission each, a share of each sent at
//! a given rate (`witness-paced`, `submit-paced`: latency under that load) and
//! the rest as fast as possible (`witness-max`, `submit-max`: throughput). A request answered 503 or 429
//! is sent again after its `Retry-After`, as the kernel does. Prints one JSON
//! report: per phase the requests, events, wall time, latency percentiles and
//! answers by status; and what the service acknowledged, to compare with its
//! database.

use clap::Parser;
use mlsys_grader::labs::Scorers;
use mlsys_grader::synth::Rng;
use mlsys_model::receipt::{ReceiptStatus, ServiceReceipt, WitnessBatch, WitnessReceipt};
use mlsys_model::record::{Event, EventKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `hub-load` flags.
#[derive(Debug, Parser)]
struct Args {
    /// The service's base URL, e.g. http://127.0.0.1:8000/services/mlsys-grader.
    #[arg(long)]
    url: String,
    /// One `name token` pair a line: the students and their Hub tokens.
    #[arg(long)]
    tokens: PathBuf,
    /// Clients sending at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Clients sending at once in the cold phase (each request there waits for the Hub,
    /// which answers one at a time).
    #[arg(long, default_value_t = 8)]
    cold_concurrency: usize,
    /// Send the first `--paced-share` of the warm witness batches at this many events a
    /// second, the rest as fast as possible (0: all as fast as possible). A paced request's
    /// latency counts from when it was due, so falling behind shows.
    #[arg(long, default_value_t = 0.0)]
    events_per_s: f64,
    /// The same for submissions, a second.
    #[arg(long, default_value_t = 0.0)]
    submissions_per_s: f64,
    /// The share of each warm phase sent at its rate.
    #[arg(long, default_value_t = 0.5)]
    paced_share: f64,
    /// Lab events per student (about: the lab's synthetic student decides).
    #[arg(long, default_value_t = 40)]
    events: usize,
    /// Events per witness batch at most (a prediction lock also ends a batch, as in the kernel).
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Seed of the synthetic class.
    #[arg(long, default_value_t = 15)]
    seed: u64,
    /// Times a request refused with 503 or 429 is sent again.
    #[arg(long, default_value_t = 10)]
    retries: u32,
    /// Send no witness batches (a service without `/api/witness`): the cold
    /// phase is then each student's `GET /api/whoami`.
    #[arg(long)]
    no_witness: bool,
}

/// One request of the workload.
struct Job {
    student: usize,
    kind: JobKind,
    body: Vec<u8>,
    events: usize,
    /// When it is due after its phase starts (`None`: at once).
    due: Option<Duration>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum JobKind {
    Whoami,
    Witness,
    Submit,
}

/// What one phase measured.
#[derive(Debug, Default, Serialize)]
struct PhaseReport {
    requests: usize,
    /// Requests finally answered 2xx.
    ok: usize,
    /// Requests never answered 2xx (after the retries).
    failed: usize,
    /// Answers that were sent again (503, 429).
    retried: usize,
    /// Events in the requests answered 2xx.
    events: usize,
    wall_s: f64,
    requests_per_s: f64,
    events_per_s: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Every answer by status (`error` for no answer).
    statuses: BTreeMap<String, usize>,
    /// A few of the error answers, to say why.
    error_samples: Vec<String>,
    /// Requests that took over 100 ms, by the second of the phase they were sent in.
    slow_by_second: BTreeMap<u64, usize>,
}

/// What the service acknowledged, over all phases.
#[derive(Debug, Default, Serialize)]
struct Acknowledged {
    /// Witness receipts: events stored now, already had, conflicting.
    witness_stored: u64,
    witness_duplicates: u64,
    witness_conflicts: u64,
    /// Submission receipts: stored now, already had.
    submissions_stored: u64,
    submissions_duplicate: u64,
    /// Receipts naming another student than the token's.
    wrong_student: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    students: usize,
    concurrency: usize,
    events_sent: usize,
    batches_sent: usize,
    submissions_sent: usize,
    phases: BTreeMap<String, PhaseReport>,
    acknowledged: Acknowledged,
}

fn main() {
    let args = Args::parse();
    let class = read_tokens(&args.tokens);
    let (first, rest, submissions) = workload(&args, &class);
    let events_sent = first.iter().chain(&rest).map(|j| j.events).sum();
    let batches_sent = first.len() + rest.len();
    let acknowledged = Mutex::new(Acknowledged::default());
    let mut phases = BTreeMap::new();
    let mut phases_run = vec![("cold", first, args.cold_concurrency)];
    // A witness batch is due when the events before it have taken their time at the
    // rate; a submission, one after another at its rate.
    for ((paced_name, max_name), mut jobs, rate, weight) in [
        (
            ("witness-paced", "witness-max"),
            rest,
            args.events_per_s,
            (|job: &Job| job.events) as fn(&Job) -> usize,
        ),
        (
            ("submit-paced", "submit-max"),
            submissions,
            args.submissions_per_s,
            |_: &Job| 1,
        ),
    ] {
        let paced = if rate > 0.0 {
            (jobs.len() as f64 * args.paced_share.clamp(0.0, 1.0)) as usize
        } else {
            0
        };
        let flat_out = jobs.split_off(paced);
        let mut before = 0;
        for job in &mut jobs {
            job.due = Some(Duration::from_secs_f64(before as f64 / rate));
            before += weight(job);
        }
        phases_run.push((paced_name, jobs, args.concurrency));
        phases_run.push((max_name, flat_out, args.concurrency));
    }
    for (name, jobs, concurrency) in phases_run {
        if jobs.is_empty() {
            continue;
        }
        eprintln!("hub-load: {name}: {} requests", jobs.len());
        let report = run_phase(&args, &class, &jobs, concurrency, &acknowledged);
        eprintln!(
            "hub-load: {name}: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, {} failed",
            report.requests_per_s, report.p50_ms, report.p99_ms, report.failed
        );
        phases.insert(name.to_string(), report);
    }
    let report = Report {
        students: class.len(),
        concurrency: args.concurrency,
        events_sent,
        batches_sent,
        submissions_sent: class.len(),
        phases,
        acknowledged: acknowledged.into_inner().unwrap(),
    };
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

/// The `name token` lines of `path`.
fn read_tokens(path: &PathBuf) -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(name, token)| (name.to_string(), token.trim().to_string()))
        .collect()
}

/// Each student's synthetic work, cut into the first witness batch (the cold
/// phase), the other batches and the submission of all those events. The
/// other batches are interleaved across the class as students working at
/// their own pace would send them: a student's batches in order, each
/// student starting a random number of rounds late (so the small batches
/// that end a session are not all sent together).
fn workload(args: &Args, class: &[(String, String)]) -> (Vec<Job>, Vec<Job>, Vec<Job>) {
    let scorer = Scorers::builtin()
        .pick(None)
        .expect("the grader scores a lab");
    let mut rng = Rng::new(args.seed);
    let start = chrono::Utc::now() - chrono::Duration::hours(2);
    let mut first = Vec::new();
    let mut later: Vec<(u64, Job)> = Vec::new();
    let mut submissions = Vec::new();
    for (student, (name, _)) in class.iter().enumerate() {
        let submission = scorer.synthetic(name, start, args.events, &mut rng);
        if args.no_witness {
            first.push(Job {
                student,
                kind: JobKind::Whoami,
                events: 0,
                due: None,
                body: Vec::new(),
            });
        }
        let witnessed = if args.no_witness {
            Vec::new()
        } else {
            batches(&submission.events, args.batch)
        };
        let late = rng.below(LATE_ROUNDS);
        for (n, batch) in witnessed.into_iter().enumerate() {
            let job = Job {
                student,
                kind: JobKind::Witness,
                events: batch.len(),
                due: None,
                body: serde_json::to_vec(&WitnessBatch { events: batch }).unwrap(),
            };
            if n == 0 {
                first.push(job);
            } else {
                later.push((late + n as u64, job));
            }
        }
        submissions.push(Job {
            student,
            kind: JobKind::Submit,
            events: submission.events.len(),
            due: None,
            body: serde_json::to_vec(&submission).unwrap(),
        });
    }
    later.sort_by_key(|(round, _)| *round); // stable: a round keeps class order
    (
        first,
        later.into_iter().map(|(_, job)| job).collect(),
        submissions,
    )
}

/// Students start up to this many rounds of batches late.
const LATE_ROUNDS: u64 = 8;

/// `events` in batches of at most `size`, a prediction lock ending its batch.
fn batches(events: &[Event], size: usize) -> Vec<Vec<Event>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for event in events {
        current.push(event.clone());
        let lock = matches!(event.kind, EventKind::PredictionLocked { .. });
        if current.len() >= size.max(1) || lock {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// What one client saw.
#[derive(Default)]
struct Seen {
    latencies_us: Vec<u64>,
    /// Requests over 100 ms, by the second of the phase they were sent in.
    slow: BTreeMap<u64, usize>,
    report: PhaseReport,
}

/// Sends `jobs` from `concurrency` clients, each when due; returns the phase's figures.
fn run_phase(
    args: &Args,
    class: &[(String, String)],
    jobs: &[Job],
    concurrency: usize,
    acknowledged: &Mutex<Acknowledged>,
) -> PhaseReport {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let seen: Vec<Seen> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..concurrency.max(1))
            .map(|_| {
                let next = &next;
                scope.spawn(move || client(args, class, jobs, (next, started), acknowledged))
            })
            .collect();
        clients.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let mut report = PhaseReport {
        requests: jobs.len(),
        wall_s: wall,
        ..PhaseReport::default()
    };
    let mut latencies = Vec::new();
    for mut s in seen {
        latencies.append(&mut s.latencies_us);
        for (second, n) in s.slow {
            *report.slow_by_second.entry(second).or_default() += n;
        }
        report.ok += s.report.ok;
        report.failed += s.report.failed;
        report.retried += s.report.retried;
        report.events += s.report.events;
        for (status, n) in s.report.statuses {
            *report.statuses.entry(status).or_default() += n;
        }
        for sample in s.report.error_samples {
            if report.error_samples.len() < 5 {
                report.error_samples.push(sample);
            }
        }
    }
    latencies.sort_unstable();
    let pick = |q: f64| match latencies.len() {
        0 => 0.0,
        n => latencies[((n as f64 * q).ceil() as usize).clamp(1, n) - 1] as f64 / 1000.0,
    };
    report.p50_ms = pick(0.50);
    report.p90_ms = pick(0.90);
    report.p99_ms = pick(0.99);
    report.max_ms = pick(1.0);
    report.requests_per_s = report.ok as f64 / wall;
    report.events_per_s = report.events as f64 / wall;
    report
}

/// One client: takes the next job (waiting until it is due) until none is left.
fn client(
    args: &Args,
    class: &[(String, String)],
    jobs: &[Job],
    (next, start): (&AtomicUsize, Instant),
    acknowledged: &Mutex<Acknowledged>,
) -> Seen {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(60)))
        .max_idle_age(Duration::from_secs(5))
        .build()
        .into();
    let mut seen = Seen::default();
    let mut ack = Acknowledged::default();
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let Some(job) = jobs.get(n) else { break };
        let due = job.due.map_or_else(Instant::now, |after| start + after);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let (name, token) = &class[job.student];
        let path = match job.kind {
            JobKind::Whoami => "api/whoami",
            JobKind::Witness => "api/witness",
            JobKind::Submit => "api/submissions",
        };
        let url = format!("{}/{path}", args.url.trim_end_matches('/'));
        let mut attempts = 0;
        loop {
            attempts += 1;
            // The first attempt counts from when it was due (a paced phase falling behind).
            let sent = if attempts == 1 {
                due.min(Instant::now())
            } else {
                Instant::now()
            };
            let authorization = format!("token {token}");
            let answer = match job.kind {
                JobKind::Whoami => agent
                    .get(&url)
                    .header("Authorization", &authorization)
                    .call(),
                _ => agent
                    .post(&url)
                    .header("Authorization", &authorization)
                    .header("Content-Type", "application/json")
                    .send(&job.body[..]),
            }
            .and_then(|mut r| Ok((r.status().as_u16(), r.body_mut().read_to_vec()?)));
            let took = sent.elapsed();
            seen.latencies_us.push(took.as_micros() as u64);
            if took > Duration::from_millis(100) {
                let second = sent.saturating_duration_since(start).as_secs();
                *seen.slow.entry(second).or_default() += 1;
            }
            let (status, body) = match answer {
                Ok(answer) => answer,
                Err(e) => (0, e.to_string().into_bytes()),
            };
            let label = if status == 0 {
                "error".to_string()
            } else {
                status.to_string()
            };
            *seen.report.statuses.entry(label).or_default() += 1;
            if (200..300).contains(&status) {
                seen.report.ok += 1;
                seen.report.events += job.events;
                tally(&mut ack, job.kind, name, &body);
                break;
            }
            if seen.report.error_samples.len() < 5 {
                let text = String::from_utf8_lossy(&body);
                seen.report.error_samples.push(format!(
                    "{status}: {}",
                    text.chars().take(300).collect::<String>()
                ));
            }
            if matches!(status, 503 | 429 | 0) && attempts <= args.retries {
                seen.report.retried += 1;
                let wait = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["retry_after_seconds"].as_f64())
                    .unwrap_or(1.0);
                std::thread::sleep(Duration::from_secs_f64(wait));
                continue;
            }
            seen.report.failed += 1;
            break;
        }
    }
    let mut total = acknowledged.lock().unwrap();
    total.witness_stored += ack.witness_stored;
    total.witness_duplicates += ack.witness_duplicates;
    total.witness_conflicts += ack.witness_conflicts;
    total.submissions_stored += ack.submissions_stored;
    total.submissions_duplicate += ack.submissions_duplicate;
    total.wrong_student += ack.wrong_student;
    seen
}

/// Counts a 2xx answer's receipt.
fn tally(ack: &mut Acknowledged, kind: JobKind, name: &str, body: &[u8]) {
    match kind {
        JobKind::Whoami => {}
        JobKind::Witness => match serde_json::from_slice::<WitnessReceipt>(body) {
            Ok(receipt) => {
                ack.witness_stored += u64::from(receipt.stored);
                ack.witness_duplicates += u64::from(receipt.duplicates);
                ack.witness_conflicts += u64::from(receipt.conflicts);
                ack.wrong_student += u64::from(receipt.student != name);
            }
            Err(_) => ack.wrong_student += 1,
        },
        JobKind::Submit => match serde_json::from_slice::<ServiceReceipt>(body) {
            Ok(receipt) => {
                match receipt.status {
                    ReceiptStatus::Stored => ack.submissions_stored += 1,
                    ReceiptStatus::Duplicate => ack.submissions_duplicate += 1,
                }
                ack.wrong_student += u64::from(receipt.student != name);
            }
            Err(_) => ack.wrong_student += 1,
        },
    }
}
