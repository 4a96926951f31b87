//! The session at a glance: the seed's status footer (context, predictions,
//! Act I's GPU utilization and effective I/O bandwidth, the MDS state and the
//! total workers), and the closing summary shown after the hand-in.

use super::act1;
use super::act2::{self, DatasetLayout};
use super::content::Callout;
use super::content::CalloutKind;
use super::design::ANSWER;
use super::figures::{act1_figures, act2_figures};
use super::limits::{mds_limits, MdsBinding};
use super::narrative::act1_binding_sentence;
use super::report::RunInputs;
use super::{Context, Session};
use crate::choice::{Act, Choice};
use crate::format::{fmt_kilo, fmt_thousands, thousands};

/// Where a prediction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PredictionState {
    /// Not locked yet.
    Pending,
    /// Locked on the key.
    Correct(Choice),
    /// Locked on another option.
    Incorrect(Choice),
}

impl PredictionState {
    /// The state of `act`'s prediction in `session`.
    pub fn of(session: &Session, act: Act) -> Self {
        match session.predictions.get(&act) {
            None => PredictionState::Pending,
            Some(&c) if c == ANSWER => PredictionState::Correct(c),
            Some(&c) => PredictionState::Incorrect(c),
        }
    }

    /// The seed's word: `pending`, `correct`, `incorrect`.
    pub fn label(self) -> &'static str {
        match self {
            PredictionState::Pending => "pending",
            PredictionState::Correct(_) => "correct",
            PredictionState::Incorrect(_) => "incorrect",
        }
    }
}

/// The metadata server's state in the current Act II design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MdsState {
    /// Demand within capacity.
    Healthy,
    /// Demand above capacity.
    Saturated,
    /// An object store: no metadata server.
    NotUsed,
}

impl MdsState {
    /// The footer's word.
    pub fn label(self) -> &'static str {
        match self {
            MdsState::Healthy => "healthy",
            MdsState::Saturated => "saturated",
            MdsState::NotUsed => "no MDS (object store)",
        }
    }
}

/// The seed's status footer, from the session's current settings (the latest
/// runs, or the seed's defaults before any).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusFooter {
    /// The deployment context.
    pub context: Context,
    /// Act I's and Act II's predictions.
    pub predictions: [(Act, PredictionState); 2],
    /// Act I's GPU utilization, %.
    pub gpu_util_pct: f64,
    /// Act I's effective I/O bandwidth, GB/s.
    pub effective_bw_gbs: f64,
    /// The MDS state of the Act II design.
    pub mds: MdsState,
    /// Its metadata demand, ops/s.
    pub ops_demand_per_s: f64,
    /// Act II GPUs.
    pub gpus: u32,
    /// Act II workers per GPU.
    pub workers_per_gpu: u32,
    /// All data-loader workers of the design (GPUs × workers).
    pub total_workers: u32,
}

/// One entry of the footer: a label, its value and how it should look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FooterItem {
    /// What it is ("MDS status").
    pub label: &'static str,
    /// Its value as shown ("saturated (307K ops/s)").
    pub value: String,
    /// Good, bad or neutral news (`None`: a plain figure).
    pub tone: Option<CalloutKind>,
}

/// The footer of `session`.
pub fn status_footer(session: &Session) -> StatusFooter {
    let io = act1::evaluate(&session.io);
    let mds = act2::evaluate(&session.mds);
    StatusFooter {
        context: session.context,
        predictions: Act::ALL.map(|act| (act, PredictionState::of(session, act))),
        gpu_util_pct: io.gpu_util_pct,
        effective_bw_gbs: io.effective_bw_gbs,
        mds: if session.mds.layout == DatasetLayout::ObjectStore {
            MdsState::NotUsed
        } else if mds.mds_saturated {
            MdsState::Saturated
        } else {
            MdsState::Healthy
        },
        ops_demand_per_s: mds.ops_demand_per_s,
        gpus: session.mds.gpus,
        workers_per_gpu: session.mds.workers_per_gpu,
        total_workers: session.mds.total_workers(),
    }
}

impl StatusFooter {
    /// The footer's entries in the seed's order.
    pub fn items(&self) -> Vec<FooterItem> {
        let prediction = |label, state: PredictionState| FooterItem {
            label,
            value: match state {
                PredictionState::Pending => state.label().to_string(),
                PredictionState::Correct(c) | PredictionState::Incorrect(c) => {
                    format!("{c} ({})", state.label())
                }
            },
            tone: Some(match state {
                PredictionState::Pending => CalloutKind::Info,
                PredictionState::Correct(_) => CalloutKind::Success,
                PredictionState::Incorrect(_) => CalloutKind::Danger,
            }),
        };
        vec![
            FooterItem {
                label: "Context",
                value: self.context.label().to_string(),
                tone: None,
            },
            prediction("Act I prediction", self.predictions[0].1),
            prediction("Act II prediction", self.predictions[1].1),
            FooterItem {
                label: "GPU util (Act I)",
                value: format!("{:.0}%", self.gpu_util_pct),
                tone: None,
            },
            FooterItem {
                label: "Effective I/O BW",
                value: format!("{:.1} GB/s", self.effective_bw_gbs),
                tone: None,
            },
            FooterItem {
                label: "MDS status",
                value: match self.mds {
                    MdsState::NotUsed => self.mds.label().to_string(),
                    _ => format!(
                        "{} ({}K ops/s)",
                        self.mds.label(),
                        fmt_kilo(self.ops_demand_per_s / 1000.0)
                    ),
                },
                tone: Some(match self.mds {
                    MdsState::Saturated => CalloutKind::Danger,
                    MdsState::Healthy | MdsState::NotUsed => CalloutKind::Success,
                }),
            },
            FooterItem {
                label: "Workers",
                value: format!(
                    "{} ({}×{})",
                    fmt_thousands(u64::from(self.total_workers)),
                    self.gpus,
                    self.workers_per_gpu
                ),
                tone: None,
            },
        ]
    }
}

/// What the student takes away, shown after the hand-in: both acts with the
/// session's own figures.
pub fn closing_summary(session: &Session) -> Callout {
    let f1 = act1_figures();
    let f2 = act2_figures();
    let said = |act| match PredictionState::of(session, act) {
        PredictionState::Pending => "You locked no prediction".to_string(),
        PredictionState::Correct(c) => format!("You predicted {c}, the key"),
        PredictionState::Incorrect(c) => format!("You predicted {c}; the key was {ANSWER}"),
    };
    let best = session
        .runs
        .iter()
        .filter_map(|run| match run {
            RunInputs::Act1(i) => Some((*i, act1::evaluate(i))),
            RunInputs::Act2(_) => None,
        })
        .fold(
            None::<(act1::IoInputs, act1::IoOutputs)>,
            |best, run| match &best {
                Some(b) if b.1.gpu_util_pct >= run.1.gpu_util_pct => best,
                _ => Some(run),
            },
        );
    let best = match best {
        Some((i, o)) => format!(
            " Your best run ({}) reached {:.1}% ({}). {}",
            RunInputs::Act1(i).settings().join(" · "),
            o.gpu_util_pct,
            o.status.label(),
            act1_binding_sentence(&i, &o, &super::limits::io_limits(&i, &o))
        ),
        None => " You ran no Act I configuration.".to_string(),
    };
    let d = &f1.default_limits;
    let act1 = format!(
        "**Act I — the I/O bottleneck.** {said}.{best} In the default scenario random reads let \
         {random:.0}% of the bandwidth through and the cluster delivered {eff:.1} GB/s of its \
         {lustre:.0} GB/s; from {from} OSTs up the {fabric:.0} GB/s fabric caps what reaches the \
         GPUs, which at batch {batch} would read {demand:.0} GB/s. The fix was the access pattern \
         and reading overlapped with compute, not more hardware.",
        said = said(Act::Act1),
        random = f1.random_efficiency_pct,
        eff = f1.default.effective_bw_gbs,
        lustre = f1.lustre_bw_gbs,
        from = f1.fabric_binds_from_osts,
        fabric = f1.modelled_fabric_gbs,
        batch = f1.batch,
        demand = d.demand_total_gbs,
    );
    let design = act2::evaluate(&session.mds);
    let limits = mds_limits(&session.mds, &design);
    let verdict = match limits.binding {
        MdsBinding::Metadata => "the metadata server binds",
        MdsBinding::Bandwidth => "bandwidth binds",
        MdsBinding::Both => "both metadata and bandwidth bind",
        MdsBinding::Neither => "nothing binds yet",
    };
    let act2 = format!(
        "**Act II — the metadata ceiling.** {said}. Your design ({settings}): {verdict}, with \
         metadata at {meta}% of the MDS capacity and bandwidth at {bw:.0}% of supply. At {gpus} \
         GPUs × {workers} workers with individual files one MDS faces {demand}K ops/s against \
         {capacity}K while bandwidth uses {bw_used:.0}% of the {supply} GB/s supply: metadata \
         fails first, and no OST moves that ceiling.",
        said = said(Act::Act2),
        settings = RunInputs::Act2(session.mds).settings().join(" · "),
        meta = thousands(limits.metadata_load_pct),
        bw = limits.bandwidth_load_pct,
        gpus = fmt_thousands(u64::from(f2.gpus)),
        workers = f2.workers_per_gpu,
        demand = fmt_kilo(f2.outputs.ops_demand_per_s / 1000.0),
        capacity = thousands(f64::from(f2.outputs.mds_capacity_per_s) / 1000.0),
        bw_used = f2.outputs.bw_demand_gbs / f2.outputs.bw_supply_gbs * 100.0,
        supply = fmt_thousands(f2.outputs.bw_supply_gbs as u64),
    );
    Callout::new(
        CalloutKind::Success,
        "Lab handed in. What the instruments showed",
        format!("{act1}\n\n{act2}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::EventKind;
    use serde_json::json;

    #[test]
    fn the_footer_shows_the_seed_entries() {
        let mut s = Session::default();
        s.apply(&EventKind::PredictionLocked {
            act: Act::Act1,
            choice: Choice::B,
        })
        .unwrap();
        let items = status_footer(&s).items();
        let text: Vec<String> = items
            .iter()
            .map(|i| format!("{}: {}", i.label, i.value))
            .collect();
        assert_eq!(
            text,
            [
                "Context: Distributed FS — Lustre/GPFS",
                "Act I prediction: B (correct)",
                "Act II prediction: pending",
                "GPU util (Act I): 1%",
                "Effective I/O BW: 7.0 GB/s",
                "MDS status: saturated (307K ops/s)",
                "Workers: 2,048 (512×4)",
            ]
        );
        assert_eq!(items[5].tone, Some(CalloutKind::Danger));
    }

    #[test]
    fn the_closing_summary_quotes_the_best_run_and_the_design() {
        let mut s = Session::default();
        for (act, choice) in [(Act::Act1, Choice::A), (Act::Act2, Choice::B)] {
            s.apply(&EventKind::PredictionLocked { act, choice })
                .unwrap();
        }
        for inputs in [
            json!({"context":"distributed_fs","workers":4,"batch":64,"pattern":"sequential","osts":24}),
            json!({"context":"distributed_fs","workers":1,"batch":64,"pattern":"random","osts":24}),
        ] {
            s.apply(&EventKind::InstrumentRun {
                act: Act::Act1,
                inputs,
                source: Default::default(),
            })
            .unwrap();
        }
        let c = closing_summary(&s);
        assert!(
            c.body.contains("You predicted A; the key was B"),
            "{}",
            c.body
        );
        assert!(
            c.body.contains("Your best run (4 workers/GPU · batch 64 · sequential reads · 24 OSTs) reached 45.2% (Starved)"),
            "{}",
            c.body
        );
        assert!(c.body.contains("You predicted B, the key"), "{}", c.body);
        assert!(
            c.body.contains("Your design (512 GPUs × 4 workers"),
            "{}",
            c.body
        );
        assert!(c.body.contains("the metadata server binds"), "{}", c.body);
    }
}
