//! One `%io` and one `%mds` request handled in-process: parse the magic line,
//! run the model, and build all four renderings (HTML cards, Vega-Lite, text,
//! report JSON) plus the chart display. Target: ≤ 50 µs each. The journal's
//! fsync is I/O and not part of this figure.
//!
//! The witness's share of a recorded event (`Witness::notify`: a flag and a
//! wake-up of the sender thread; target p50 ≤ 20 µs) is timed in wall-clock
//! time per call, as p50 and p99 over many calls.
//!
//! Times are this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so builds and
//! tests running alongside on a shared machine do not inflate them.

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mlsys_kernel::grader_client::GraderService;
use mlsys_kernel::labs::data_storage::args::{self, Command};
use mlsys_kernel::labs::data_storage::render;
use mlsys_kernel::witness::Witness;
use mlsys_model::labs::data_storage::{IoInputs, MdsInputs, RunInputs};
use std::hint::black_box;
use std::time::Instant;

/// The calling thread's CPU time, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Criterion measurement of thread CPU time.
struct ThreadCpuTime;

/// Formats nanoseconds as ns, µs or ms.
struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else {
            (1e-6, "ms")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(&self, _: f64, _: &Throughput, values: &mut [f64]) -> &'static str {
        values.iter_mut().for_each(|v| *v = 1e9 / *v);
        "elem/s"
    }

    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns"
    }
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }

    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns() - start
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

/// Handles one instrument line as the lab does, returning the cards and the chart.
fn handle(name: &str, line: &str) -> render::InstrumentOutput {
    let run = match args::parse(name, line, &IoInputs::default(), &MdsInputs::default()) {
        Ok(Command::Io(inputs)) => RunInputs::Act1(inputs),
        Ok(Command::Mds(inputs)) => RunInputs::Act2(inputs),
        other => panic!("not an instrument run: {other:?}"),
    };
    render::instrument(&run.evaluate())
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let io = "--workers 4 --batch 128 --pattern prefetch --osts 32";
    let mds = "--gpus 4096 --workers 8 --layout individual --mds 2";
    c.bench_function("%io handled (parse, model, 4 renderings)", |b| {
        b.iter(|| handle("io", black_box(io)))
    });
    c.bench_function("%mds handled (parse, model, 4 renderings)", |b| {
        b.iter(|| handle("mds", black_box(mds)))
    });
    let serialized = |out: render::InstrumentOutput| {
        (
            serde_json::to_vec(&out.cards).unwrap(),
            serde_json::to_vec(&out.chart).unwrap(),
        )
    };
    c.bench_function("%io handled + outputs serialized to JSON", |b| {
        b.iter(|| serialized(handle("io", black_box(io))))
    });
    c.bench_function("%mds handled + outputs serialized to JSON", |b| {
        b.iter(|| serialized(handle("mds", black_box(mds))))
    });
    let mds_inputs = match args::parse("mds", mds, &IoInputs::default(), &MdsInputs::default()) {
        Ok(Command::Mds(inputs)) => inputs,
        other => panic!("{other:?}"),
    };
    let report = RunInputs::Act2(mds_inputs).evaluate();
    c.bench_function("breakdown %mds: parse + model", |b| {
        b.iter(|| RunInputs::Act2(mds_inputs).evaluate())
    });
    c.bench_function("breakdown %mds: renderings only", |b| {
        b.iter(|| render::instrument(black_box(&report)))
    });
    let (i, o) = match &report {
        mlsys_model::labs::data_storage::Report::Act2 { inputs, outputs } => {
            (*inputs, outputs.clone())
        }
        _ => unreachable!(),
    };
    c.bench_function("breakdown %mds: vega spec", |b| {
        b.iter(|| render::vega::act2(black_box(&i), black_box(&o)))
    });
    c.bench_function("breakdown %mds: callout + formula text", |b| {
        b.iter(|| {
            (
                mlsys_model::labs::data_storage::narrative::act2_callout(black_box(&i), &o),
                mlsys_model::labs::data_storage::narrative::formula_panel(black_box(&report)),
            )
        })
    });
    c.bench_function("breakdown %mds: report JSON value", |b| {
        b.iter(|| render::report_media(black_box(&report)))
    });
}

/// `Witness::notify` with a sender thread whose service refuses connections
/// (it retries with pauses, as when a service is down): criterion's CPU time,
/// then call by call in wall-clock time, printed as p50 and p99.
fn bench_witness(c: &mut Criterion<ThreadCpuTime>) {
    let dir = std::env::temp_dir().join(format!("mlsys-bench-witness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("events.jsonl");
    std::fs::write(&journal, "").unwrap();
    let service = GraderService::new(
        Some("http://127.0.0.1:9/services/mlsys-grader".into()),
        Some("token".into()),
        false,
    )
    .unwrap()
    .unwrap();
    let witness = Witness::start(service, &journal).unwrap();
    c.bench_function("witness notify (an event's hand-off to the sender)", |b| {
        b.iter(|| witness.notify())
    });
    let mut samples: Vec<u128> = (0..100_000)
        .map(|_| {
            let started = Instant::now();
            witness.notify();
            started.elapsed().as_nanos()
        })
        .collect();
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "witness notify (the witness's cost on a magic's path): p50 {} ns, p99 {} ns, max {} ns \
         over {} calls",
        at(0.5),
        at(0.99),
        samples[samples.len() - 1],
        samples.len()
    );
    drop(witness);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench, bench_witness
}
criterion_main!(benches);
