//! Property tests over the whole input space of both acts: the model's physics
//! invariants, and input validation that rejects every bad value with an
//! [`InputError`] naming the field; text that is not a run, report or choice is refused.

use mlsys_model::labs::data_storage::constants::{
    BATCH, GPUS, MDS_NODES, MDS_OPS_PER_NODE, OSTS, WORKERS, WORKERS_PER_GPU,
};
use mlsys_model::labs::data_storage::{
    act1, act2, Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern, Report, RunInputs,
};
use mlsys_model::{Act, InputError};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

fn context() -> impl Strategy<Value = Context> {
    select(Context::ALL.to_vec())
}

fn io_inputs() -> impl Strategy<Value = IoInputs> {
    (
        context(),
        select(WORKERS.values().collect::<Vec<_>>()),
        select(BATCH.values().collect::<Vec<_>>()),
        select(ReadPattern::ALL.to_vec()),
        select(OSTS.values().collect::<Vec<_>>()),
    )
        .prop_map(|(context, workers, batch, pattern, osts)| IoInputs {
            context,
            workers,
            batch,
            pattern,
            osts,
        })
}

fn mds_inputs() -> impl Strategy<Value = MdsInputs> {
    (
        context(),
        select(GPUS.values().collect::<Vec<_>>()),
        select(WORKERS_PER_GPU.values().collect::<Vec<_>>()),
        select(DatasetLayout::ALL.to_vec()),
        select(MDS_NODES.values().collect::<Vec<_>>()),
    )
        .prop_map(|(context, gpus, workers_per_gpu, layout, mds)| MdsInputs {
            context,
            gpus,
            workers_per_gpu,
            layout,
            mds,
        })
}

/// Whether `a` and `b` agree to 1e-12 relative.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn utilizations_stay_in_range(inputs in io_inputs()) {
        let out = act1::evaluate(&inputs);
        prop_assert!((0.0..=100.0).contains(&out.gpu_util_pct), "{}", out.gpu_util_pct);
        prop_assert!((0.0..=100.0).contains(&out.storage_util_pct), "{}", out.storage_util_pct);
        prop_assert_eq!(out.util_curve.len(), WORKERS.values().count());
        for u in &out.util_curve {
            prop_assert!((0.0..=100.0).contains(u), "{}", u);
        }
        // The curve's point at the chosen worker count is the headline figure.
        let at = out.util_curve[(inputs.workers - WORKERS.min) as usize];
        prop_assert_eq!(at.to_bits(), out.gpu_util_pct.to_bits());
        prop_assert!(out.t_wait_ms >= 0.0 && out.t_wait_ms <= out.t_io_ms);
        prop_assert!(out.prefetch_depth >= 1);
    }

    #[test]
    fn more_workers_never_lower_bandwidth_or_utilization(inputs in io_inputs()) {
        prop_assume!(inputs.workers < WORKERS.max);
        let more = IoInputs { workers: inputs.workers + 1, ..inputs };
        let (a, b) = (act1::evaluate(&inputs), act1::evaluate(&more));
        prop_assert!(b.effective_bw_gbs >= a.effective_bw_gbs,
            "{} workers: {} GB/s, {}: {}", inputs.workers, a.effective_bw_gbs, more.workers, b.effective_bw_gbs);
        prop_assert!(b.gpu_util_pct >= a.gpu_util_pct);
        prop_assert!(b.t_io_ms <= a.t_io_ms);
    }

    #[test]
    fn status_follows_the_seed_thresholds(inputs in io_inputs()) {
        let out = act1::evaluate(&inputs);
        let expected = if out.gpu_util_pct >= 80.0 { "healthy" }
            else if out.gpu_util_pct >= 50.0 { "degraded" } else { "starved" };
        prop_assert_eq!(serde_json::to_value(out.status).unwrap(), json!(expected));
    }

    #[test]
    fn ops_demand_is_linear_in_gpus(inputs in mds_inputs(), other in select(GPUS.values().collect::<Vec<_>>())) {
        let scaled = MdsInputs { gpus: other, ..inputs };
        let (a, b) = (act2::evaluate(&inputs), act2::evaluate(&scaled));
        let k = f64::from(other) / f64::from(inputs.gpus);
        prop_assert!(close(b.ops_demand_per_s, k * a.ops_demand_per_s),
            "{} × {} != {}", k, a.ops_demand_per_s, b.ops_demand_per_s);
        // Demand per GPU is the same at every scale, and the curve is the model at each scale.
        let per_gpu = a.ops_demand_per_s / f64::from(inputs.gpus);
        for (g, ops) in GPUS.values().zip(&a.ops_demand_curve) {
            prop_assert!(close(*ops, per_gpu * f64::from(g)));
            let at = act2::evaluate(&MdsInputs { gpus: g, ..inputs });
            prop_assert_eq!(ops.to_bits(), at.ops_demand_per_s.to_bits());
        }
        prop_assert!(close(b.bw_demand_gbs, k * a.bw_demand_gbs));
    }

    #[test]
    fn needed_mds_serve_the_demand_and_no_fewer_would(inputs in mds_inputs()) {
        let out = act2::evaluate(&inputs);
        let per_node = f64::from(MDS_OPS_PER_NODE);
        prop_assert!(f64::from(out.needed_mds) * per_node >= out.ops_demand_per_s);
        if out.needed_mds > 1 {
            prop_assert!(f64::from(out.needed_mds - 1) * per_node < out.ops_demand_per_s);
        }
        // With the needed nodes the design is not saturated.
        if out.needed_mds <= MDS_NODES.max {
            let enough = act2::evaluate(&MdsInputs { mds: out.needed_mds.max(1), ..inputs });
            prop_assert!(!enough.mds_saturated);
        }
    }

    #[test]
    fn saturated_exactly_when_demand_exceeds_capacity(inputs in mds_inputs()) {
        let out = act2::evaluate(&inputs);
        prop_assert_eq!(out.mds_capacity_per_s, inputs.mds * MDS_OPS_PER_NODE);
        let over = out.ops_demand_per_s > f64::from(out.mds_capacity_per_s);
        if inputs.layout == DatasetLayout::ObjectStore {
            prop_assert!(!out.mds_saturated);
            prop_assert_eq!(out.needed_mds, 1);
        } else {
            prop_assert_eq!(out.mds_saturated, over);
        }
        prop_assert_eq!(out.bw_saturated, out.bw_demand_gbs > out.bw_supply_gbs);
        prop_assert_eq!(out.bw_saturated, out.bw_headroom_pct < 0.0);
        prop_assert!((0.0..=200.0).contains(&out.mds_util_pct));
        prop_assert_eq!(out.mds_util_pct > 100.0, over);
        prop_assert_eq!(out.bw_demand_curve.len(), GPUS.values().count());
        prop_assert_eq!(out.ops_demand_curve.len(), GPUS.values().count());
    }

    #[test]
    fn inputs_and_reports_round_trip_through_json(a in io_inputs(), b in mds_inputs()) {
        for run in [RunInputs::Act1(a), RunInputs::Act2(b)] {
            let text = serde_json::to_string(&run).unwrap();
            prop_assert_eq!(serde_json::from_str::<RunInputs>(&text).unwrap(), run);
            let report = run.evaluate();
            let text = serde_json::to_string(&report).unwrap();
            // Exact, float for float (serde_json's float_roundtrip).
            prop_assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), report.clone());
            let value: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(RunInputs::from_json(run.act(), &value["inputs"]).unwrap(), run);
        }
    }
}

// ── Invalid inputs ──────────────────────────────────────────────────────────

/// Any JSON value at all (bounded depth).
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        select(vec![
            "nvme",
            "distributed_fs",
            "random",
            "prefetch",
            "shards",
            "object_store"
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Whether a JSON value is a valid value of `field` for `act`.
fn valid(act: Act, field: &str, v: &Value) -> bool {
    let range = match (act, field) {
        (_, "context") => return matches!(v.as_str(), Some("nvme" | "distributed_fs")),
        (Act::Act1, "pattern") => {
            return matches!(v.as_str(), Some("sequential" | "random" | "prefetch"))
        }
        (Act::Act2, "layout") => {
            return matches!(v.as_str(), Some("shards" | "individual" | "object_store"))
        }
        (Act::Act1, "workers") => WORKERS,
        (Act::Act1, "batch") => BATCH,
        (Act::Act1, "osts") => OSTS,
        (Act::Act2, "gpus") => GPUS,
        (Act::Act2, "workers_per_gpu") => WORKERS_PER_GPU,
        (Act::Act2, "mds") => MDS_NODES,
        _ => unreachable!("{field}"),
    };
    v.as_i64().is_some_and(|n| range.contains(n))
}

fn defaults(act: Act) -> Value {
    match act {
        Act::Act1 => serde_json::to_value(IoInputs::default()).unwrap(),
        Act::Act2 => serde_json::to_value(MdsInputs::default()).unwrap(),
    }
}

fn fields(act: Act) -> &'static [&'static str] {
    match act {
        Act::Act1 => IoInputs::FIELDS,
        Act::Act2 => MdsInputs::FIELDS,
    }
}

/// Validates through every entry point and checks they agree; returns the error, if any.
fn validate(act: Act, inputs: &Value) -> Result<RunInputs, InputError> {
    let typed = RunInputs::from_json(act, inputs);
    let tagged = json!({ "act": act.id(), "inputs": inputs });
    let via_serde = serde_json::from_value::<RunInputs>(tagged);
    match (&typed, &via_serde) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(e), Err(s)) => assert!(
            s.to_string().contains(&e.to_string()),
            "serde error {s} lacks {e}"
        ),
        _ => panic!("from_json {typed:?} but serde {via_serde:?}"),
    }
    typed
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_value_of_any_field_is_accepted_iff_valid(
        act in select(Act::ALL.to_vec()),
        index in 0usize..5,
        value in any_json(),
    ) {
        let field = fields(act)[index];
        let mut inputs = defaults(act);
        inputs[field] = value.clone();
        match validate(act, &inputs) {
            Ok(_) => prop_assert!(valid(act, field, &value), "{field} = {value} accepted"),
            Err(e) => {
                prop_assert!(!valid(act, field, &value), "{field} = {value} rejected: {e}");
                prop_assert_eq!(&e.field, field);
                // Names are shown as given; any other bad value as its JSON text.
                let shown = match (field, value.as_str()) {
                    ("context" | "pattern" | "layout", Some(s)) => s.to_string(),
                    _ => value.to_string(),
                };
                prop_assert_eq!(&e.value, &shown);
                prop_assert!(e.to_string().starts_with(&format!("{field} must be ")), "{}", e);
            }
        }
    }

    #[test]
    fn any_integer_is_accepted_iff_in_range_and_on_step(
        act in select(Act::ALL.to_vec()),
        index in 0usize..5,
        n in prop_oneof![any::<i64>(), -100i64..5000],
    ) {
        let field = fields(act)[index];
        prop_assume!(!matches!(field, "context" | "pattern" | "layout"));
        let mut inputs = defaults(act);
        inputs[field] = json!(n);
        let result = validate(act, &inputs);
        prop_assert_eq!(result.is_ok(), valid(act, field, &json!(n)));
        if let Err(e) = result {
            prop_assert_eq!(e.field, field);
            prop_assert_eq!(e.value, n.to_string());
        }
        // The typed constructors agree.
        let d = (Context::Nvme, ReadPattern::Random, DatasetLayout::Shards);
        let typed = match (act, field) {
            (Act::Act1, "workers") => IoInputs::new(d.0, n, 64, d.1, 24).map(|_| ()),
            (Act::Act1, "batch") => IoInputs::new(d.0, 1, n, d.1, 24).map(|_| ()),
            (Act::Act1, "osts") => IoInputs::new(d.0, 1, 64, d.1, n).map(|_| ()),
            (Act::Act2, "gpus") => MdsInputs::new(d.0, n, 4, d.2, 1).map(|_| ()),
            (Act::Act2, "workers_per_gpu") => MdsInputs::new(d.0, 512, n, d.2, 1).map(|_| ()),
            (Act::Act2, "mds") => MdsInputs::new(d.0, 512, 4, d.2, n).map(|_| ()),
            _ => unreachable!(),
        };
        prop_assert_eq!(typed.map_err(|e| e.field), validate(act, &inputs).map(|_| ()).map_err(|e| e.field));
    }

    #[test]
    fn unknown_fields_are_rejected_by_name(
        act in select(Act::ALL.to_vec()),
        key in "[a-z_]{1,16}",
        value in any_json(),
    ) {
        prop_assume!(!fields(act).contains(&key.as_str()));
        let mut inputs = defaults(act);
        inputs[&key] = value;
        let e = validate(act, &inputs).unwrap_err();
        prop_assert_eq!(e.field, key);
    }

    #[test]
    fn missing_fields_are_rejected_by_name(act in select(Act::ALL.to_vec()), index in 0usize..5) {
        let field = fields(act)[index];
        let mut inputs = defaults(act);
        inputs.as_object_mut().unwrap().remove(field);
        let e = validate(act, &inputs).unwrap_err();
        prop_assert_eq!(&e.field, field);
        prop_assert_eq!(e.value, "nothing");
    }

    #[test]
    fn non_objects_are_rejected_as_inputs(act in select(Act::ALL.to_vec()), value in any_json()) {
        prop_assume!(!value.is_object());
        let e = validate(act, &value).unwrap_err();
        prop_assert_eq!(e.field, "inputs");
    }

    #[test]
    fn text_names_a_choice_exactly_when_it_is_that_choices_id(text in choice_like_text()) {
        parses_as_named(&text, &Context::ALL, Context::id, "context")?;
        parses_as_named(&text, &ReadPattern::ALL, ReadPattern::id, "pattern")?;
        parses_as_named(&text, &DatasetLayout::ALL, DatasetLayout::id, "layout")?;
    }

    #[test]
    fn arbitrary_text_is_refused_as_a_run_and_as_a_report(text in ".{0,200}") {
        prop_assume!(!text.trim_start().starts_with('{'));
        prop_assert!(serde_json::from_str::<RunInputs>(&text).is_err());
        prop_assert!(serde_json::from_str::<Report>(&text).is_err());
    }

    #[test]
    fn a_cut_off_or_trailed_run_or_report_is_refused(
        a in io_inputs(),
        b in mds_inputs(),
        cut in any::<prop::sample::Index>(),
        junk in "\\S{1,8}",
    ) {
        for run in [RunInputs::Act1(a), RunInputs::Act2(b)] {
            let text = serde_json::to_string(&run).unwrap();
            prop_assert_eq!(serde_json::from_str::<RunInputs>(&text).unwrap(), run);
            prop_assert!(serde_json::from_str::<RunInputs>(cut_off(&text, cut)).is_err());
            let trailed = text.clone() + &junk;
            prop_assert!(serde_json::from_str::<RunInputs>(&trailed).is_err());
            let report = serde_json::to_string(&run.evaluate()).unwrap();
            prop_assert!(serde_json::from_str::<Report>(cut_off(&report, cut)).is_err());
            let trailed = report.clone() + &junk;
            prop_assert!(serde_json::from_str::<Report>(&trailed).is_err());
        }
    }
}

/// Text that is, or nearly is, a choice's id: ids, ids in upper case or padded, and anything.
fn choice_like_text() -> impl Strategy<Value = String> {
    let ids: Vec<&'static str> = Context::ALL
        .map(Context::id)
        .into_iter()
        .chain(ReadPattern::ALL.map(ReadPattern::id))
        .chain(DatasetLayout::ALL.map(DatasetLayout::id))
        .collect();
    prop_oneof![
        select(ids.clone()).prop_map(String::from),
        select(ids.clone()).prop_map(str::to_uppercase),
        select(ids).prop_map(|id| format!("{id} ")),
        ".{0,40}",
    ]
}

/// `text` parses as the choice whose id it is and as nothing else; a refusal names the field
/// and shows the text as given.
fn parses_as_named<T>(
    text: &str,
    all: &[T],
    id: fn(T) -> &'static str,
    field: &str,
) -> Result<(), TestCaseError>
where
    T: std::str::FromStr<Err = InputError> + Copy + PartialEq + std::fmt::Debug,
{
    let named = all.iter().copied().find(|choice| id(*choice) == text);
    match text.parse::<T>() {
        Ok(parsed) => prop_assert_eq!(Some(parsed), named, "{:?}", text),
        Err(e) => {
            prop_assert_eq!(named, None, "{:?} refused", text);
            prop_assert_eq!(e.field.as_str(), field);
            prop_assert_eq!(e.value.as_str(), text);
        }
    }
    Ok(())
}

/// A strict prefix of `text`, cut at a character boundary.
fn cut_off(text: &str, cut: prop::sample::Index) -> &str {
    let mut end = cut.index(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[test]
fn errors_say_what_is_allowed() {
    let bad = |inputs: Value| {
        RunInputs::from_json(Act::Act1, &inputs)
            .unwrap_err()
            .to_string()
    };
    let mut inputs = defaults(Act::Act1);
    inputs["batch"] = json!(100);
    assert_eq!(
        bad(inputs.clone()),
        "batch must be a multiple of 32 between 32 and 512, got 100"
    );
    inputs["batch"] = json!("64");
    assert_eq!(
        bad(inputs.clone()),
        "batch must be a multiple of 32 between 32 and 512, got \"64\""
    );
    inputs["batch"] = json!(64);
    inputs["pattern"] = json!("zigzag");
    assert_eq!(
        bad(inputs.clone()),
        "pattern must be one of sequential, random, prefetch, got zigzag"
    );
    inputs["pattern"] = json!("random");
    inputs["speed"] = json!(3);
    assert_eq!(
        bad(inputs),
        "speed must be absent (the inputs are context, workers, batch, pattern, osts), got 3"
    );
    let mut inputs = defaults(Act::Act2);
    inputs.as_object_mut().unwrap().remove("layout");
    assert_eq!(
        RunInputs::from_json(Act::Act2, &inputs)
            .unwrap_err()
            .to_string(),
        "layout must be one of shards, individual, object_store, got nothing"
    );
    assert_eq!(
        RunInputs::from_json(Act::Act2, &json!([1, 2]))
            .unwrap_err()
            .to_string(),
        "inputs must be an object with the keys context, gpus, workers_per_gpu, layout, mds, got [1,2]"
    );
}
