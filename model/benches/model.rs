//! Criterion benchmarks of the lab model: one evaluation of each act, a sweep
//! of the full input grid of both acts (targets: ≤ 50 ns per evaluation,
//! ≤ 2 ms for the grid), and what a run's report adds: its limits and JSON.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mlsys_model::labs::data_storage::limits::{io_limits, mds_limits};
use mlsys_model::labs::data_storage::{act1, act2, DatasetLayout, IoInputs, MdsInputs, RunInputs};
use std::hint::black_box;

fn one_evaluation(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    let io = IoInputs::default();
    group.bench_function("act1_default", |b| {
        b.iter(|| act1::evaluate(black_box(&io)))
    });
    let mds = MdsInputs::default();
    group.bench_function("act2_default", |b| {
        b.iter(|| act2::evaluate(black_box(&mds)))
    });
    // The default design is saturated ("Add 6 more MDS nodes…"); an object store
    // takes the other path, a fixed recommendation.
    let object_store = MdsInputs {
        layout: DatasetLayout::ObjectStore,
        ..MdsInputs::default()
    };
    group.bench_function("act2_object_store", |b| {
        b.iter(|| act2::evaluate(black_box(&object_store)))
    });
    group.finish();
}

fn full_grid(c: &mut Criterion) {
    let io: Vec<_> = IoInputs::grid().collect();
    let mds: Vec<_> = MdsInputs::grid().collect();
    let mut group = c.benchmark_group("grid");
    group.throughput(Throughput::Elements((io.len() + mds.len()) as u64));
    group.bench_function("both_acts", |b| {
        b.iter(|| {
            for inputs in &io {
                black_box(act1::evaluate(black_box(inputs)));
            }
            for inputs in &mds {
                black_box(act2::evaluate(black_box(inputs)));
            }
        })
    });
    group.finish();
}

fn report(c: &mut Criterion) {
    let mut group = c.benchmark_group("report");
    let io = IoInputs::default();
    let io_out = act1::evaluate(&io);
    group.bench_function("act1_limits", |b| {
        b.iter(|| io_limits(black_box(&io), black_box(&io_out)))
    });
    let mds = MdsInputs::default();
    let mds_out = act2::evaluate(&mds);
    group.bench_function("act2_limits", |b| {
        b.iter(|| mds_limits(black_box(&mds), black_box(&mds_out)))
    });
    for (name, run) in [
        ("act1_json", RunInputs::Act1(io)),
        ("act2_json", RunInputs::Act2(mds)),
    ] {
        let report = run.evaluate();
        group.bench_function(name, |b| {
            b.iter(|| serde_json::to_value(black_box(&report)))
        });
    }
    group.finish();
}

criterion_group!(benches, one_evaluation, full_grid, report);
criterion_main!(benches);
