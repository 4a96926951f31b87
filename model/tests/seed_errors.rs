//! The figures `docs/seed-errors.md` quotes, computed with the model. Each assertion
//! pins a number the document states; if the model changes, the document must too.

use mlsys_model::labs::data_storage::act1::{base_storage_bw_gbs, network_overhead};
use mlsys_model::labs::data_storage::constants::*;
use mlsys_model::labs::data_storage::limits::{io_limits, mds_limits};
use mlsys_model::labs::data_storage::{
    act1, act2, content, narrative, Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern,
    UtilStatus,
};
use mlsys_model::Act;

/// Rounds to `digits` decimals for comparison with the document's text.
fn r(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

fn io(workers: u32, pattern: ReadPattern) -> act1::IoOutputs {
    act1::evaluate(&IoInputs {
        workers,
        pattern,
        ..IoInputs::default()
    })
}

#[test]
fn act1_default_scenario_is_about_one_percent_not_twelve() {
    let o = io(1, ReadPattern::Random);
    assert_eq!(o.gpu_util_pct, 1.09375);
    assert_eq!(o.status, UtilStatus::Starved);
    assert_eq!(r(o.effective_bw_gbs, 2), 7.0);
    assert_eq!(r(o.per_gpu_bw_gbs * 1024.0, 1), 56.0); // MB/s per GPU
    assert_eq!(r(o.t_io_ms, 0), 4571.0);
    assert_eq!(r(o.t_wait_ms, 0), 4521.0);
    assert_eq!(r(o.network_overhead, 3), 0.595);
    assert_eq!(r(o.storage_util_pct, 2), 1.04);
    // Sequential reads with one worker come closest to the story's 12%.
    let seq = io(1, ReadPattern::Sequential);
    assert_eq!(r(seq.gpu_util_pct, 1), 13.3);
    assert_eq!(r(seq.effective_bw_gbs, 1), 85.0);
    assert_eq!(r(seq.t_io_ms, 0), 376.0);
    // Option D's fix: 4 workers with the prefetch pipeline.
    assert_eq!(io(4, ReadPattern::Prefetch).gpu_util_pct, 100.0);
}

#[test]
fn act1_mathpeek_batch_times_are_milliseconds_not_fractions_of_one() {
    // The MathPeek's idealized per-GPU share: 24 OSTs × 28 GB/s × pattern / 128 GPUs,
    // i.e. worker factor and fabric factor both 1.
    let d = IoInputs::default();
    let base = base_storage_bw_gbs(d.context, d.osts);
    let batch_gb = f64::from(d.batch) * SAMPLE_SIZE_MB / 1024.0;
    let ideal = |p: ReadPattern| {
        let per_gpu = base * p.pattern_factor() / f64::from(ACT1_GPU_COUNT);
        let t_io = batch_gb / per_gpu * 1000.0;
        let wait = (t_io - COMPUTE_TIME_MS).max(0.0);
        (
            per_gpu,
            t_io,
            COMPUTE_TIME_MS / (COMPUTE_TIME_MS + wait) * 100.0,
        )
    };
    let (seq_pg, seq_t, seq_u) = ideal(ReadPattern::Sequential);
    let (rnd_pg, rnd_t, rnd_u) = ideal(ReadPattern::Random);
    assert_eq!((r(seq_pg, 2), r(seq_t, 1), r(seq_u, 1)), (4.46, 56.0, 89.2));
    assert_eq!(
        (r(rnd_pg, 4), r(rnd_t, 0), r(rnd_u, 1)),
        (0.3675, 680.0, 7.4)
    );
    // The seed's own decimal arithmetic: 256 MB / 4,460 MB/s and 256 MB / 370 MB/s, in ms.
    assert_eq!(r(256.0 / 4460.0 * 1000.0, 1), 57.4);
    assert_eq!(r(256.0 / 370.0 * 1000.0, 0), 692.0);
    // The fabric the model uses (16 ports) vs the one option C describes (one port per OST).
    assert_eq!(IB_HDR200_BW_GBS * IB_FABRIC_PORTS, 400.0);
    assert_eq!(IB_HDR200_BW_GBS * f64::from(DEFAULT_OSTS), 600.0);
    assert_eq!(r(network_overhead(Context::DistributedFs, base), 3), 0.595);
    // The model's own pattern gap next to the benchmark's 40×.
    assert_eq!(r(0.85 / 0.07, 1), 12.1);
}

#[test]
fn act1_demand_is_a_batch_per_step_not_80_mb_per_second() {
    let i = IoInputs::default();
    let l = io_limits(&i, &act1::evaluate(&i));
    assert_eq!(l.demand_per_gpu_gbs * 1024.0, 5120.0); // MB/s per GPU
    assert_eq!(l.demand_total_gbs, 640.0);
    // The same demand counted in decimal units: 256 MB / 50 ms × 128.
    assert_eq!(r(256.0 / 0.05 * 128.0 / 1000.0, 0), 655.0);
    assert_eq!(r(l.demand_total_gbs / 672.0 * 100.0, 0), 95.0);
    assert_eq!(r(l.demand_total_gbs / 400.0 * 100.0, 0), 160.0);
    // The seed's 80 MB/s, 10.24 GB/s and 1.5% are Act II's per-GPU constant.
    assert_eq!(BW_DEMAND_PER_GPU_GBS * 128.0, 10.24);
    assert_eq!(r(10.24 / 672.0 * 100.0, 1), 1.5);
    // "about 1%": the lead's message.
    assert!(content::act_intro(Act::Act1)
        .message
        .contains("sitting at about 1% utilization"));
}

#[test]
fn the_fabric_caps_effective_bandwidth_from_16_osts_up() {
    let at = |osts| {
        act1::evaluate(&IoInputs {
            osts,
            ..IoInputs::default()
        })
    };
    assert!(base_storage_bw_gbs(Context::DistributedFs, 12) < 400.0);
    assert!(base_storage_bw_gbs(Context::DistributedFs, 16) > 400.0);
    assert_eq!(r(at(24).network_overhead, 3), 0.595);
    // "Double the OSTs": 24 → 48 changes nothing.
    assert_eq!(r(at(48).gpu_util_pct, 9), r(at(24).gpu_util_pct, 9));
    assert_eq!(r(at(48).effective_bw_gbs, 9), 7.0);
    assert!(at(12).effective_bw_gbs < at(16).effective_bw_gbs);
}

#[test]
fn the_fix_the_analyzer_supports() {
    let seq = |w| io(w, ReadPattern::Sequential).gpu_util_pct;
    assert_eq!(r(seq(1), 1), 13.3);
    assert_eq!(
        (r(seq(4), 1), r(seq(8), 1), r(seq(16), 1)),
        (45.2, 51.5, 52.4)
    );
    let pre = |w| io(w, ReadPattern::Prefetch).gpu_util_pct;
    assert_eq!((r(pre(2), 1), pre(3), pre(4)), (64.2, 100.0, 100.0));
    // Random reads never pass 8.6% anywhere (16 workers, batch 32, 48 OSTs is the best).
    let best_random = act1::evaluate(&IoInputs {
        workers: 16,
        batch: 32,
        pattern: ReadPattern::Random,
        osts: 48,
        context: Context::DistributedFs,
    });
    assert_eq!(r(best_random.gpu_util_pct, 1), 8.6);
    // Prefetch with 4 workers: 100% in the model, 41.4% sustainable.
    let i = IoInputs {
        workers: 4,
        pattern: ReadPattern::Prefetch,
        ..IoInputs::default()
    };
    let l = io_limits(&i, &act1::evaluate(&i));
    assert_eq!(r(l.supply_per_gpu_gbs * 1024.0, 0), 2122.0);
    assert_eq!(r(l.sustainable_util_pct, 1), 41.4);
    assert_eq!(l.hidden_ms, 200.0);
    // Reflection C: workers raise bandwidth 3.9×, random reads stay starved.
    assert_eq!(r(act1::worker_factor(16) / act1::worker_factor(1), 1), 3.9);
    assert_eq!(r(act1::worker_factor(16), 3), 0.986);
    assert_eq!(r(io(16, ReadPattern::Random).gpu_util_pct, 1), 4.3);
}

#[test]
fn nvme_in_act1_never_passes_8_point_4_percent() {
    let nvme = |batch, pattern| {
        act1::evaluate(&IoInputs {
            context: Context::Nvme,
            workers: 16,
            batch,
            pattern,
            osts: 24,
        })
        .gpu_util_pct
    };
    assert_eq!(r(nvme(32, ReadPattern::Prefetch), 1), 8.4);
    assert_eq!(r(nvme(64, ReadPattern::Prefetch), 1), 3.7);
}

#[test]
fn act2_figures_quoted_by_the_document() {
    let scenario = MdsInputs {
        gpus: 4096,
        workers_per_gpu: 8,
        ..MdsInputs::default()
    };
    let o = act2::evaluate(&scenario);
    assert_eq!(o.ops_demand_per_s, 4_915_200.0);
    assert_eq!(
        r(o.ops_demand_per_s / f64::from(o.mds_capacity_per_s), 1),
        98.3
    );
    assert_eq!(o.needed_mds, 99);
    assert_eq!(o.bw_demand_gbs, 327.68);
    assert_eq!(o.bw_supply_gbs, 1344.0);
    assert_eq!(r(o.bw_headroom_pct, 1), 75.6);

    // The MathPeek's shards fix forgets the 0.02 metadata-pressure factor.
    let shards = act2::evaluate(&MdsInputs {
        layout: DatasetLayout::Shards,
        ..scenario
    });
    assert_eq!(r(shards.ops_demand_per_s, 3), 393.216);
    assert_eq!(r(shards.mds_util_pct, 2), 0.79);
    assert_eq!(r(4096.0 * 8.0 * 0.2 * 3.0, 0), 19661.0);

    // The seed's default design is already saturated, past the 200% cap the card shows as 199%.
    let d = act2::evaluate(&MdsInputs::default());
    assert_eq!(d.ops_demand_per_s, 307_200.0);
    assert!(d.mds_saturated);
    assert_eq!(d.mds_util_pct, 200.0);
    assert_eq!(d.needed_mds, 7);
    assert_eq!(
        d.recommendation,
        "Add 6 more MDS nodes or migrate to object store."
    );

    // The feasible branch's "Bandwidth demand: 0" — the real figure, e.g. for shards.
    let feasible = act2::evaluate(&MdsInputs {
        layout: DatasetLayout::Shards,
        ..MdsInputs::default()
    });
    assert!(!feasible.mds_saturated);
    assert_eq!(feasible.bw_demand_gbs, 40.96);

    // NVMe: "no metadata server overhead", yet the formula still saturates the MDS,
    // and 512 GPUs already exceed one node's 28 GB/s.
    let nvme = act2::evaluate(&MdsInputs {
        context: Context::Nvme,
        ..MdsInputs::default()
    });
    assert!(nvme.mds_saturated && nvme.bw_saturated);
    assert_eq!(r(nvme.bw_headroom_pct, 1), -46.3);

    // 48 OSTs × 28 GB/s, not the 672 GB/s (24 OSTs) of the comparison table.
    assert_eq!(f64::from(ACT2_OST_COUNT) * LUSTRE_OST_BW_GBS, 1344.0);

    // The 25 GB/s port against 80 MB/s per GPU, not "128 GB/s per port".
    assert_eq!((IB_HDR200_BW_GBS / BW_DEMAND_PER_GPU_GBS).floor(), 312.0);
    // Shards open 250× fewer files, one every 5 s.
    assert_eq!(
        DatasetLayout::Individual.files_open_per_sec_per_worker()
            / DatasetLayout::Shards.files_open_per_sec_per_worker(),
        250.0
    );
    assert_eq!(
        1.0 / DatasetLayout::Shards.files_open_per_sec_per_worker(),
        5.0
    );
    // The 4,096 × 8 design needs 99 MDS nodes, beyond the designer's 8.
    assert!(o.needed_mds > MDS_NODES.max);
    // Individual files at 128 GPUs × 2 workers stay below one MDS.
    let small = act2::evaluate(&MdsInputs {
        gpus: 128,
        workers_per_gpu: 2,
        ..MdsInputs::default()
    });
    assert_eq!(small.ops_demand_per_s, 38_400.0);
    assert!(!small.mds_saturated);
    // The data-gravity example: the transfer is 21% of the job, even at 478 TB.
    assert_eq!(r(9_000.0 / 43_008.0 * 100.0, 0), 21.0);
    assert_eq!(r(43_008.0 / 0.09 / 1000.0, 0), 478.0);
}

#[test]
fn the_recommendation_ignores_bandwidth_on_one_nvme_node() {
    let i = MdsInputs {
        context: Context::Nvme,
        gpus: 384,
        layout: DatasetLayout::ObjectStore,
        ..MdsInputs::default()
    };
    let o = act2::evaluate(&i);
    assert!(o.bw_saturated);
    assert_eq!(r(o.bw_demand_gbs, 2), 30.72);
    assert_eq!(
        o.recommendation,
        "Object store — no MDS. Scales to any GPU count."
    );
    let below = MdsInputs { gpus: 256, ..i };
    let ob = act2::evaluate(&below);
    assert!(!ob.bw_saturated);
    assert_eq!(mds_limits(&below, &ob).bandwidth_fails_at_gpus, Some(384));
    assert_eq!(
        narrative::recommendation(&below, &ob),
        "Object store — no MDS. Bandwidth sets the ceiling instead: demand exceeds the 28 GB/s \
         supply from 384 GPUs."
    );
}
