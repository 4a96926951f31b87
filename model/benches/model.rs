//! Criterion benchmarks of the lab model: one evaluation of each act, and a
//! sweep of the full input grid of both acts (targets: ≤ 50 ns per evaluation,
//! ≤ 2 ms for the grid).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mlsys_model::labs::data_storage::constants::{BATCH, GPUS, MDS_NODES, OSTS, WORKERS};
use mlsys_model::labs::data_storage::{
    act1, act2, Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern,
};
use std::hint::black_box;

/// Every valid Act I input.
fn act1_grid() -> Vec<IoInputs> {
    let mut grid = Vec::new();
    for context in Context::ALL {
        for workers in WORKERS.values() {
            for batch in BATCH.values() {
                for pattern in ReadPattern::ALL {
                    for osts in OSTS.values() {
                        grid.push(IoInputs {
                            context,
                            workers,
                            batch,
                            pattern,
                            osts,
                        });
                    }
                }
            }
        }
    }
    grid
}

/// Every valid Act II input.
fn act2_grid() -> Vec<MdsInputs> {
    let mut grid = Vec::new();
    for context in Context::ALL {
        for gpus in GPUS.values() {
            for workers_per_gpu in WORKERS.values() {
                for layout in DatasetLayout::ALL {
                    for mds in MDS_NODES.values() {
                        grid.push(MdsInputs {
                            context,
                            gpus,
                            workers_per_gpu,
                            layout,
                            mds,
                        });
                    }
                }
            }
        }
    }
    grid
}

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
    let io = act1_grid();
    let mds = act2_grid();
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

criterion_group!(benches, one_evaluation, full_grid);
criterion_main!(benches);
