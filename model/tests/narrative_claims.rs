//! Every claim the lab's texts make, checked against the model: the scenario
//! figures each story quotes, and the claims about a run, over the whole input
//! grid of both acts (18,432 Act I and 24,576 Act II configurations).
//!
//! The texts build their numbers from the model, so a quoted figure cannot
//! drift; what can go wrong is a *claim* ("more OSTs change nothing", "the
//! bandwidth will still be fine") that the model does not make true. Each test
//! here states one such claim's truth condition and checks it where the text
//! makes it.

use mlsys_model::content::CalloutKind;
use mlsys_model::labs::data_storage::constants::*;
use mlsys_model::labs::data_storage::figures::{act1_figures, act2_figures};
use mlsys_model::labs::data_storage::limits::{
    fabric_gbs, io_limits, mds_limits, IoFactor, MdsBinding,
};
use mlsys_model::labs::data_storage::{
    act1, act2, briefing, charts, content, mathpeek, narrative, Context, DatasetLayout, IoInputs,
    MdsInputs, ReadPattern, RunInputs, UtilStatus,
};
use mlsys_model::{Act, Choice};

/// Whether `a` and `b` agree to 1e-9 relative.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn io(inputs: IoInputs) -> act1::IoOutputs {
    act1::evaluate(&inputs)
}

fn at_default(workers: u32, pattern: ReadPattern) -> act1::IoOutputs {
    io(IoInputs {
        workers,
        pattern,
        ..IoInputs::default()
    })
}

#[test]
fn the_limits_decompose_the_seed_formula_at_every_act1_point() {
    for i in IoInputs::grid() {
        let o = io(i);
        let l = io_limits(&i, &o);
        let share = |f| l.factor(f).multiplier;
        let top = l.fabric_gbs.map_or(l.storage_gbs, |f| f.max(l.storage_gbs));
        let product = top
            * share(IoFactor::Storage)
            * share(IoFactor::Pattern)
            * share(IoFactor::Workers)
            * share(IoFactor::Fabric);
        assert!(close(product, o.effective_bw_gbs), "{i:?}");
        // At most one hardware share is below 1, and none on local NVMe.
        let hardware_below_one = [IoFactor::Storage, IoFactor::Fabric]
            .iter()
            .filter(|&&f| share(f) < 1.0)
            .count();
        match i.context {
            Context::Nvme => assert_eq!(hardware_below_one, 0, "{i:?}"),
            Context::DistributedFs => assert_eq!(hardware_below_one, 1, "{i:?}"),
        }
        for f in l.factors {
            assert!(
                close(
                    o.effective_bw_gbs / f.multiplier,
                    o.effective_bw_gbs + f.cost_gbs
                ),
                "{i:?}"
            );
        }
        // The binding limit is the smallest of pattern, workers and hardware over demand.
        let shares = [
            o.pattern_factor,
            o.worker_factor,
            l.hardware_gbs / l.demand_total_gbs,
        ];
        let min = shares.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(close(l.binding_share, min.min(1.0)), "{i:?}");
        // Supply over demand is that product of shares; demand is a batch per step.
        assert!(
            close(
                l.supply_pct_of_demand,
                shares.iter().product::<f64>() * 100.0
            ),
            "{i:?}"
        );
        assert!(close(
            l.demand_per_gpu_gbs * COMPUTE_TIME_MS / 1000.0,
            o.batch_gb
        ));
        // Nothing binds on the I/O side exactly when storage delivers all the GPUs read.
        if l.compute_bound {
            assert_eq!(o.gpu_util_pct, 100.0, "{i:?}");
        }
    }
}

#[test]
fn only_the_prefetch_queue_lifts_utilization_above_what_storage_sustains() {
    for i in IoInputs::grid() {
        let o = io(i);
        let l = io_limits(&i, &o);
        if i.pattern == ReadPattern::Prefetch {
            assert_eq!(
                l.exceeds_sustainable,
                o.gpu_util_pct > l.sustainable_util_pct + 1e-9,
                "{i:?}"
            );
        } else {
            // One step of overlap: utilization is exactly supply over demand.
            assert!(!l.exceeds_sustainable, "{i:?}");
            assert!(close(o.gpu_util_pct, l.sustainable_util_pct), "{i:?}");
            assert_eq!(o.t_wait_ms, (o.t_io_ms - COMPUTE_TIME_MS).max(0.0));
        }
        assert_eq!(l.gpu_waits, o.t_wait_ms > 0.0);
    }
}

#[test]
fn from_the_fabric_cap_up_more_osts_change_nothing_and_below_it_they_help() {
    let from = act1_figures().fabric_binds_from_osts;
    assert_eq!(from, 16);
    for i in IoInputs::grid().filter(|i| i.context == Context::DistributedFs && i.osts == OSTS.min)
    {
        let at = |osts| io(IoInputs { osts, ..i });
        let capped = at(from);
        for osts in OSTS.values() {
            let o = at(osts);
            let l = io_limits(&IoInputs { osts, ..i }, &o);
            if osts >= from {
                assert!(!l.more_osts_help);
                assert!(close(o.effective_bw_gbs, capped.effective_bw_gbs));
                assert!(close(o.gpu_util_pct, capped.gpu_util_pct));
                assert!(close(l.hardware_gbs, fabric_gbs()));
            } else {
                assert!(l.more_osts_help);
                assert!(at(osts + OSTS.step).effective_bw_gbs > o.effective_bw_gbs);
            }
        }
    }
}

#[test]
fn no_read_pattern_or_worker_count_passes_the_hardware_ceiling() {
    for i in IoInputs::grid() {
        let l = io_limits(&i, &io(i));
        for pattern in ReadPattern::ALL {
            for workers in WORKERS.values() {
                let o = io(IoInputs {
                    pattern,
                    workers,
                    ..i
                });
                assert!(
                    o.effective_bw_gbs <= l.hardware_gbs * (1.0 + 1e-12),
                    "{i:?}"
                );
            }
        }
    }
}

#[test]
fn model_simplifications_hold_for_every_act1_run() {
    // "Worker scaling is a fixed curve", "a read pattern is a fixed efficiency",
    // "compute time ignores the batch size": factors depend on one input each.
    for i in IoInputs::grid() {
        let o = io(i);
        assert_eq!(o.worker_factor, act1::worker_factor(i.workers));
        assert_eq!(o.pattern_factor, i.pattern.pattern_factor());
        let l = io_limits(&i, &o);
        // "The fabric is a ratio cap … though this run moves only X GB/s".
        if o.network_overhead < 1.0 {
            assert!(o.effective_bw_gbs < fabric_gbs(), "{i:?}");
        }
        let peek = mathpeek::simplifications(&RunInputs::Act1(i).evaluate());
        let titles: Vec<&str> = peek.iter().map(|s| s.title).collect();
        assert_eq!(
            titles.contains(&"Prefetching hides reading entirely."),
            l.exceeds_sustainable,
            "{i:?}"
        );
        assert_eq!(
            titles.contains(&"One step of overlap, whatever the queue."),
            i.pattern != ReadPattern::Prefetch
        );
        for s in &peek {
            assert!(!s.text.contains("NaN") && !s.text.contains("inf"), "{s:?}");
        }
    }
}

#[test]
fn act1_texts_about_a_run_say_what_the_model_says() {
    for i in IoInputs::grid() {
        let report = RunInputs::Act1(i).evaluate();
        let o = io(i);
        let l = io_limits(&i, &o);
        let card = narrative::what_binds(&report);
        let sentence = narrative::act1_binding_sentence(&i, &o, &l);
        for text in [&card.title, &card.body, &sentence] {
            assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
        }
        assert_eq!(
            card.body.contains("more OSTs change nothing"),
            o.network_overhead < 1.0,
            "{i:?}"
        );
        assert_eq!(
            card.body.contains("more OSTs would add it"),
            l.more_osts_help
        );
        assert_eq!(sentence.contains("the GPU never waits"), !l.gpu_waits);
        assert_eq!(
            sentence.contains("Nothing on the I/O side binds it"),
            l.compute_bound
        );
        assert_eq!(
            sentence.contains("storage sustains only"),
            l.exceeds_sustainable
        );
    }
}

#[test]
fn the_act1_scenario_claims_hold() {
    let f = act1_figures();
    let d = &f.default_limits;
    // Demand: a batch of 64 × 4 MB every 50 ms, 1 GB = 1,024 MB.
    assert_eq!(f.batch_mb, 256.0);
    assert_eq!(f.demand_per_gpu_mbs, 5120.0);
    assert_eq!(f.total_demand_gbs, 640.0);
    assert_eq!(f.storage_load_pct.round(), 95.0);
    // "Lustre nowhere near saturated", "nearly idle": it delivers 1% of its peak.
    assert!(f.default.storage_util_pct < 2.0);
    assert_eq!(format!("{:.1}", f.default.effective_bw_gbs), "7.0");
    // "random reads … a 14.3× loss, more than one worker's 4.0× or the fabric's 1.7×".
    let loss = |x| 1.0 / d.factor(x).multiplier;
    assert_eq!(format!("{:.1}", loss(IoFactor::Pattern)), "14.3");
    assert!(loss(IoFactor::Pattern) > loss(IoFactor::Workers));
    assert!(loss(IoFactor::Workers) > loss(IoFactor::Fabric));
    assert_eq!(d.binding, IoFactor::Pattern);
    // Reveal C: the fabric is not saturated, yet it carries less than the GPUs read.
    assert!(f.default.effective_bw_gbs < f.modelled_fabric_gbs);
    assert!(d.demand_total_gbs > f.modelled_fabric_gbs);
    assert_eq!(f.fabric_per_ost_port_gbs, 600.0);
    // "13% with one worker, 45–52% with 4–8 workers, never above 52% at batch 64".
    let seq: Vec<f64> = (4..=8)
        .map(|w| at_default(w, ReadPattern::Sequential).gpu_util_pct)
        .collect();
    assert_eq!(seq[0], f.sequential_util_pct[1]);
    assert_eq!(seq[4], f.sequential_util_pct[2]);
    assert!(seq.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        [
            format!("{:.0}", f.sequential_util_pct[0]),
            format!("{:.0}", seq[0]),
            format!("{:.0}", seq[4]),
            format!("{:.0}", f.sequential_best_util_pct)
        ],
        ["13", "45", "52", "52"]
    );
    for i in IoInputs::grid()
        .filter(|i| i.pattern == ReadPattern::Sequential && i.batch == IoInputs::default().batch)
    {
        assert!(
            io(i).gpu_util_pct <= f.sequential_best_util_pct + 1e-9,
            "{i:?}"
        );
    }
    // "…which is why sequential reads stop at 52%": the fabric binds them.
    let best = IoInputs {
        workers: WORKERS.max,
        pattern: ReadPattern::Sequential,
        ..IoInputs::default()
    };
    assert_eq!(io_limits(&best, &io(best)).binding, IoFactor::Fabric);
    // "the prefetch pipeline reaches 100% from 3 workers per GPU".
    assert_eq!(f.prefetch_healthy_from_workers, Some(3));
    for w in WORKERS.values() {
        let o = at_default(w, ReadPattern::Prefetch);
        assert_eq!(o.status == UtilStatus::Healthy, w >= 3, "{w}");
    }
    assert_eq!(
        content::prefetch_fix_phrase(),
        "100% from 3 workers per GPU"
    );
    assert_eq!(f.prefetch_fix_util_pct, 100.0);
    // Reflection C: "from 1 to 16 workers … 3.9×", random reads stay starved, the pattern's 12.1× is bigger.
    let gain = act1::worker_factor(16) / act1::worker_factor(1);
    assert_eq!(format!("{gain:.1}"), "3.9");
    assert!(
        at_default(16, ReadPattern::Random).effective_bw_gbs > 3.9 * f.default.effective_bw_gbs
    );
    assert_eq!(
        at_default(16, ReadPattern::Random).status,
        UtilStatus::Starved
    );
    assert!(f.sequential_efficiency_pct / f.random_efficiency_pct > gain);
    // The NVMe context: "no setting gets past 8.4%".
    let nvme_best = IoInputs::grid()
        .filter(|i| i.context == Context::Nvme)
        .map(|i| io(i).gpu_util_pct)
        .fold(0.0, f64::max);
    assert_eq!(nvme_best, f.nvme_best_util_pct);
    assert_eq!(format!("{nvme_best:.1}"), "8.4");
    // The chapter's gap, from constants.
    assert_eq!(format!("{:.0}", f.hbm_to_nvme_gap), "479");
}

#[test]
fn act1_scenario_texts_quote_the_model() {
    let default = RunInputs::Act1(IoInputs::default()).evaluate();
    let reveal = |c| narrative::reveal(Act::Act1, c, &default).body;
    let b = reveal(Choice::B);
    for needle in [
        "~1.1%: starved",
        "delivers 7.0 GB/s, 1.0% of its peak",
        "random 4K reads pass 7% of peak bandwidth (a 14.3× loss)",
        "one worker per GPU 25% (4.0×)",
        "the 400 GB/s fabric 60% of the 672 GB/s (1.7×)",
        "from 16 OSTs up the fabric caps what reaches the GPUs",
        "13% with one worker, 45–52% with 4–8 workers, never above 52% at batch 64",
        "read 640 GB/s through the 400 GB/s fabric",
        "reaches 100% from 3 workers per GPU",
        "**1.1% GPU utilization** (Starved)",
    ] {
        assert!(b.contains(needle), "{needle}: {b}");
    }
    assert!(!b.contains("streams"), "the model has no I/O streams: {b}");
    assert!(!b.contains("10.24") && !b.contains("80 MB/s"), "{b}");
    let c = reveal(Choice::C);
    for needle in [
        "600 GB/s of fabric",
        "models 16 ports, 400 GB/s",
        "the fabric carries 7.0 GB/s of that: it is not saturated",
        "×0.60 at 24 OSTs",
        "read 640 GB/s, more than it carries",
        "sequential reads stop at 52%",
    ] {
        assert!(c.contains(needle), "{needle}: {c}");
    }
    assert!(!c.contains("network is not saturated"), "{c}");
    let a = reveal(Choice::A);
    assert!(
        a.contains("delivers 7.0 GB/s, 1.0% of its 672 GB/s peak"),
        "{a}"
    );
    assert!(!a.contains("65×") && !a.contains("10.24"), "{a}");
    assert!(reveal(Choice::D)
        .contains("4 workers with the prefetch pipeline raise utilization to 100%"));
    // The briefing and the lead-in.
    let arithmetic = briefing::act1_arithmetic();
    assert!(arithmetic
        .moral
        .contains("would need 640 GB/s, 95% of the 672 GB/s"));
    let lead = briefing::prediction_lead_in(Act::Act1);
    assert!(lead.contains("~1.0% of its 672 GB/s peak") && lead.contains("~1.1% of the time"));
    // Reflection feedback quotes the analyzer, not the seed's 80 MB/s.
    let fb = |c| content::reflection_feedback(Act::Act1, c).body;
    assert!(fb(Choice::B).contains("from 7% to 85% of peak, 12.1× more bandwidth"));
    assert!(fb(Choice::B).contains("13% utilization with one worker per GPU, 52% with eight"));
    assert!(fb(Choice::C).contains("grows from 0.25 to 0.986, 3.9× more"));
    assert!(fb(Choice::C).contains("utilization stays at 4.3%"));
    assert!(fb(Choice::A).contains("at 24 OSTs that changes nothing"));
    for c in Choice::ALL {
        assert!(!fb(c).contains("80 MB/s"), "{}", fb(c));
    }
    // The context callouts.
    let nvme = content::context_callout(Context::Nvme).body;
    assert!(!nvme.contains("No metadata server"), "{nvme}");
    assert!(nvme.contains("no setting gets past 8.4% utilization"));
    assert!(nvme.contains("still counts every file access"));
    let dfs = content::context_callout(Context::DistributedFs).body;
    assert!(
        dfs.contains("672 GB/s aggregate")
            && dfs.contains("Act II's design has 48 OSTs, 1,344 GB/s")
    );
    assert!(!dfs.contains("Both acts use these parameters"));
}

#[test]
fn the_nvme_context_keeps_the_mds_model_and_one_node_of_supply() {
    // "In Act II the designer supplies 28 GB/s for any GPU count, and still counts
    // every file access against the MDS slider's capacity, as on Lustre."
    for i in MdsInputs::grid().filter(|i| i.context == Context::Nvme) {
        let nvme = act2::evaluate(&i);
        let lustre = act2::evaluate(&MdsInputs {
            context: Context::DistributedFs,
            ..i
        });
        assert_eq!(nvme.bw_supply_gbs, NVME_NODE_BW_GBS);
        assert_eq!(nvme.ops_demand_per_s, lustre.ops_demand_per_s);
        assert_eq!(nvme.mds_saturated, lustre.mds_saturated);
    }
}

#[test]
fn act2_limits_match_the_model_at_every_point() {
    for i in MdsInputs::grid() {
        let o = act2::evaluate(&i);
        let l = mds_limits(&i, &o);
        assert_eq!(l.binding, MdsBinding::of(o.mds_saturated, o.bw_saturated));
        // "metadata saturates from N GPUs": saturated at N and above, not below.
        for gpus in GPUS.values() {
            let at = act2::evaluate(&MdsInputs { gpus, ..i });
            assert_eq!(
                at.mds_saturated,
                l.metadata_fails_at_gpus.is_some_and(|n| gpus >= n),
                "{i:?} at {gpus}"
            );
            assert_eq!(
                at.bw_saturated,
                l.bandwidth_fails_at_gpus.is_some_and(|n| gpus >= n),
                "{i:?} at {gpus}"
            );
        }
        assert_eq!(l.mds_slider_suffices, o.needed_mds <= MDS_NODES.max);
        // "MDS capacity adds up linearly", "bandwidth demand is a fixed 80 MB/s per GPU".
        assert_eq!(o.mds_capacity_per_s, i.mds * MDS_OPS_PER_NODE);
        assert_eq!(o.bw_demand_gbs, f64::from(i.gpus) * BW_DEMAND_PER_GPU_GBS);
    }
}

#[test]
fn act2_callouts_say_what_the_model_says() {
    for i in MdsInputs::grid() {
        let o = act2::evaluate(&i);
        let c = narrative::act2_callout(&i, &o);
        let text = c.to_text();
        assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
        let fine = text.contains("the bandwidth is fine") || text.contains("still be fine");
        if i.layout == DatasetLayout::ObjectStore {
            assert!(!o.mds_saturated);
            let individual = act2::evaluate(&MdsInputs {
                layout: DatasetLayout::Individual,
                ..i
            });
            assert_eq!(
                text.contains("re-emerge"),
                individual.mds_saturated,
                "{i:?}"
            );
            assert_eq!(text.contains("still exceeds"), o.bw_saturated);
            assert_eq!(
                narrative::recommendation(&i, &o) == o.recommendation,
                l_bw_never(&i, &o),
                "{i:?}"
            );
        } else if o.mds_saturated {
            assert_eq!(c.kind, CalloutKind::Danger);
            assert_eq!(fine, !o.bw_saturated, "{i:?}");
            // "add N more MDS nodes (M in all)": M nodes suffice, M − 1 do not.
            let with = |mds| act2::evaluate(&MdsInputs { mds, ..i }).mds_saturated;
            if o.needed_mds <= MDS_NODES.max {
                assert!(!with(o.needed_mds) && with(o.needed_mds - 1), "{i:?}");
            } else {
                assert!(text.contains("more than the designer's 8") && with(MDS_NODES.max));
            }
            // Both other fixes work at any scale.
            for layout in [DatasetLayout::Shards, DatasetLayout::ObjectStore] {
                assert!(!act2::evaluate(&MdsInputs { layout, ..i }).mds_saturated);
            }
        } else if o.mds_util_pct > MDS_WARN_UTIL_PCT {
            // "Doubling the GPU count would saturate the MDS".
            assert!(2.0 * o.ops_demand_per_s > f64::from(o.mds_capacity_per_s));
            assert_eq!(
                text.contains("before bandwidth demand becomes significant"),
                2.0 * o.bw_demand_gbs <= o.bw_supply_gbs
            );
            assert_eq!(
                text.contains("Bandwidth headroom is not the constraint to watch"),
                !o.bw_saturated
            );
        } else {
            // "Push to --gpus 4096 --workers 8 --layout individual to see the bottleneck emerge".
            let push = act2::evaluate(&MdsInputs {
                gpus: GPUS.max,
                workers_per_gpu: 8,
                layout: DatasetLayout::Individual,
                ..i
            });
            assert!(push.mds_saturated);
            assert_eq!(text.contains("will still be fine"), !push.bw_saturated);
            assert_eq!(c.kind == CalloutKind::Warn, o.bw_saturated);
        }
        // The seed's recommendation is shown as it is unless bandwidth makes it false.
        if i.layout != DatasetLayout::ObjectStore {
            assert_eq!(
                narrative::recommendation(&i, &o) == o.recommendation,
                !o.bw_saturated,
                "{i:?}"
            );
        }
        let report = RunInputs::Act2(i).evaluate();
        let card = narrative::what_binds(&report);
        assert!(!card.body.contains("NaN"));
        let peek = mathpeek::simplifications(&report);
        let capped = o.mds_util_pct >= MDS_UTIL_CAP_PCT
            && o.ops_demand_per_s / f64::from(o.mds_capacity_per_s) > 2.0;
        assert_eq!(
            peek.iter().any(|s| s.title == "Utilization stops at 200%."),
            capped
        );
    }
}

/// Whether bandwidth never saturates up to the largest GPU count, other settings kept.
fn l_bw_never(i: &MdsInputs, o: &act2::MdsOutputs) -> bool {
    mds_limits(i, o).bandwidth_fails_at_gpus.is_none()
}

#[test]
fn the_act2_scenario_claims_hold() {
    let f = act2_figures();
    let l = mds_limits(&f.inputs, &f.outputs);
    // "The bandwidth math is correct. The safety margin exists. Something else will fail first."
    assert!(briefing::act2_lead_in_holds());
    assert_eq!(l.binding, MdsBinding::Metadata);
    assert_eq!(l.fails_first, Some(MdsBinding::Metadata));
    assert_eq!(f.overload.floor(), 98.0);
    let default = RunInputs::Act2(MdsInputs::default()).evaluate();
    let d = narrative::reveal(Act::Act2, Choice::D, &default).body;
    assert!(
        d.contains("Each 25 GB/s IB port carries 312× a GPU's 80 MB/s"),
        "{d}"
    );
    assert!(
        d.contains("saturates at 50K ops/s against a demand of 4,915K ops/s"),
        "{d}"
    );
    assert_eq!((IB_HDR200_BW_GBS / BW_DEMAND_PER_GPU_GBS).floor(), 312.0);
    let b = narrative::reveal(Act::Act2, Choice::B, &default).body;
    assert!(b.contains("a 98× overload") && b.contains("well within the 1,344 GB/s"));
    assert!(
        b.contains("What binds it: metadata at 614% of the MDS capacity, and it needs 7 MDS nodes"),
        "{b}"
    );
}

#[test]
fn the_mathpeeks_quote_the_model_and_end_with_the_runs_simplifications() {
    let act2 = act2_figures();
    let report = RunInputs::Act2(act2.inputs).evaluate();
    let peek = mathpeek::mathpeek(&report);
    for needle in [
        "= 4,915,200 ops/s ≈ 4,915K ops/s",
        "Saturation = 4,915 / 50 = 98× overload",
        "= 393.2 ops/s",
        "Utilization = 0.8% ← within bounds",
        "f_open ≈ 0.2 opens/s per worker (5 s per shard)",
        "1,344 GB/s (48 OSTs)",
        "≈ 2.2 hours",
        "$9,000",
        "$43,008",
        "Here the transfer costs 21% of the job",
        "at 478 TB it would match the job",
        "(from Chapter 4, \"Data Pipeline Architecture\")",
    ] {
        assert!(
            peek.markdown.contains(needle),
            "{needle}: {}",
            peek.markdown
        );
    }
    let act1 = RunInputs::Act1(IoInputs::default()).evaluate();
    let peek = mathpeek::mathpeek(&act1);
    for needle in [
        "1 up to 12 OSTs, and from 16 OSTs up",
        "Batch load, sequential: 256 MB / 4570 MB/s ≈ 56 ms → GPU util ≈ 89%",
        "Batch load, random:     256 MB / 376 MB/s ≈ 680 ms → GPU util ≈ 7.4%",
        "sequential reads reach at most 52% at batch 64 (16 workers)",
        "the model's pattern factors put the gap at 12.1×",
        "4521.4 ms",
    ] {
        assert!(
            peek.markdown.contains(needle),
            "{needle}: {}",
            peek.markdown
        );
    }
    assert!(!peek.markdown.contains("usually close to 1.0"));
    for report in [act1, report] {
        let peek = mathpeek::mathpeek(&report);
        let panel = peek
            .markdown
            .split_once("**Where this model simplifies** (for your latest run)")
            .expect("the panel ends the MathPeek")
            .1;
        assert!(!peek.simplifications.is_empty());
        for s in &peek.simplifications {
            assert!(panel.contains(&format!("- **{}** {}", s.title, s.text)));
        }
    }
}

/// The bandwidths and percentages in `text` written without thousands
/// separators from 1,000 up (`1344 GB/s`, `9830%`): a number's digits before
/// its decimal point, when they run to four or more without a comma.
fn unseparated(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for unit in [" GB/s", "%"] {
        for (at, _) in text.match_indices(unit) {
            let number: String = text[..at]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let whole = number.split('.').next().unwrap_or_default();
            if whole.len() >= 4 && !whole.contains(',') {
                found.push(format!("{number}{unit}"));
            }
        }
    }
    found
}

#[test]
fn every_figure_from_a_thousand_up_is_written_with_a_separator() {
    assert_eq!(
        unseparated("of 1344 GB/s, 1,344 GB/s, 672 GB/s, 9830%, 9,830%, 24%"),
        ["1344 GB/s", "9830%"]
    );
    let act1 = IoInputs::grid().map(RunInputs::Act1);
    let act2 = MdsInputs::grid().map(RunInputs::Act2);
    for run in act1.chain(act2) {
        let report = run.evaluate();
        let mut texts = vec![narrative::what_binds(&report).to_text()];
        texts.extend(
            mathpeek::simplifications(&report)
                .into_iter()
                .map(|s| s.text),
        );
        match run {
            RunInputs::Act1(i) => {
                let o = io(i);
                texts.push(narrative::act1_binding_sentence(&i, &o, &io_limits(&i, &o)));
            }
            RunInputs::Act2(i) => {
                let o = act2::evaluate(&i);
                texts.push(narrative::act2_binding_sentence(
                    &i,
                    &o,
                    &mds_limits(&i, &o),
                ));
                texts.push(narrative::act2_callout(&i, &o).to_text());
                texts.push(narrative::recommendation(&i, &o));
                texts.push(narrative::formula_panel(&report));
                texts.push(charts::act2_chart(&i, &o).bandwidth_supply);
            }
        }
        for text in texts {
            assert!(unseparated(&text).is_empty(), "{run:?}: {text}");
        }
    }
}
