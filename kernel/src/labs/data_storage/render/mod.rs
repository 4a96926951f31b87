//! Turns the lab's model results into Jupyter mime bundles: the four-mimetype
//! bundle of an instrument run, the chart, the briefing before a prediction and
//! MathPeeks (callouts, questions and tables are lab-neutral: `crate::render`).

pub mod briefing;
pub mod text;
pub mod vega;

use crate::render::html;
use crate::render::palette::Tone;
use jupyter_protocol::{Media, MediaType};
use mlsys_model::content::Question;
use mlsys_model::format::{fmt_kilo, fmt_thousands};
use mlsys_model::labs::data_storage::act1::{IoInputs, IoOutputs, UtilStatus};
use mlsys_model::labs::data_storage::act2::{MdsInputs, MdsOutputs, RecommendationKind};
use mlsys_model::labs::data_storage::constants::{
    MDS_UTIL_CAP_PCT, MDS_WARN_UTIL_PCT, STORAGE_UTIL_FAIR_PCT, STORAGE_UTIL_LOW_PCT,
};
use mlsys_model::labs::data_storage::narrative::{self, MathPeek};
use mlsys_model::labs::data_storage::{Report, RunInputs};
use mlsys_model::{Act, Choice};

/// What an instrument run shows: the chart (a display of its own, since
/// JupyterLab renders one mimetype per bundle) and the four-mimetype bundle.
pub struct InstrumentOutput {
    /// The Vega-Lite chart with a text alternative.
    pub chart: Media,
    /// HTML cards, Vega-Lite chart, text cards and the report JSON, together.
    pub bundle: Media,
}

/// A run's settings in one line: `1 worker/GPU · batch 64 · random reads · 24 OSTs`.
pub fn settings(run: RunInputs) -> String {
    run.settings().join(" · ")
}

/// The report as its own mimetype: exactly the model's run JSON.
pub fn report_media(report: &Report) -> MediaType {
    let value = serde_json::to_value(report).unwrap_or_default();
    MediaType::Other((Report::MIME_TYPE.to_string(), value))
}

fn util_tone(status: UtilStatus) -> Tone {
    match status {
        UtilStatus::Healthy => Tone::Green,
        UtilStatus::Degraded => Tone::Orange,
        UtilStatus::Starved => Tone::Red,
    }
}

/// Renders one instrument run.
pub fn instrument(report: &Report) -> InstrumentOutput {
    match report {
        Report::Act1 { inputs, outputs } => act1(report, inputs, outputs),
        Report::Act2 { inputs, outputs } => act2(report, inputs, outputs),
    }
}

fn act1(report: &Report, i: &IoInputs, o: &IoOutputs) -> InstrumentOutput {
    let tone = util_tone(o.status);
    let storage_tone = if o.storage_util_pct < STORAGE_UTIL_LOW_PCT {
        Tone::Red
    } else if o.storage_util_pct < STORAGE_UTIL_FAIR_PCT {
        Tone::Orange
    } else {
        Tone::Green
    };
    let cards = [
        html::Card {
            label: "GPU Utilization",
            value: format!("{:.0}%", o.gpu_util_pct),
            caption: o.status.label().to_string(),
            tone,
            caption_toned: true,
        },
        html::Card {
            label: "Effective I/O BW",
            value: format!("{:.1}", o.effective_bw_gbs),
            caption: "GB/s total".to_string(),
            tone: Tone::Blue,
            caption_toned: false,
        },
        html::Card {
            label: "I/O Wait",
            value: format!("{:.1}", o.t_wait_ms),
            caption: "ms per batch".to_string(),
            tone,
            caption_toned: false,
        },
        html::Card {
            label: "Prefetch Queue",
            value: o.prefetch_depth.to_string(),
            caption: "batches ahead".to_string(),
            tone: Tone::Blue,
            caption_toned: false,
        },
        html::Card {
            label: "Storage Utilization",
            value: format!("{:.0}%", o.storage_util_pct),
            caption: "of capacity".to_string(),
            tone: storage_tone,
            caption_toned: false,
        },
    ];
    let page = html::frame(&format!(
        "{}{}{}",
        html::heading(
            "Act I · I/O bottleneck analyzer",
            "Your run",
            &settings(RunInputs::Act1(*i))
        ),
        html::cards(&cards),
        html::formula_panel(&narrative::formula_panel(report)),
    ));
    let spec = vega::act1(i, o, tone);
    let plain = text::act1(i, o);
    finish(report, page, spec, plain)
}

fn act2(report: &Report, i: &MdsInputs, o: &MdsOutputs) -> InstrumentOutput {
    let mds_tone = if o.mds_saturated {
        Tone::Red
    } else if o.mds_util_pct > MDS_WARN_UTIL_PCT {
        Tone::Orange
    } else {
        Tone::Green
    };
    let bw_tone = if o.bw_saturated {
        Tone::Red
    } else {
        Tone::Green
    };
    let rec_tone = match RecommendationKind::of(i.layout, o.mds_saturated, o.mds_util_pct) {
        RecommendationKind::MdsSaturated => Tone::Red,
        RecommendationKind::MdsApproaching => Tone::Orange,
        RecommendationKind::ObjectStore | RecommendationKind::Sound => Tone::Green,
    };
    let capacity_k = fmt_thousands(u64::from(o.mds_capacity_per_s / 1000));
    let cards = [
        html::Card {
            label: "Metadata Demand",
            value: format!("{}K", fmt_kilo(o.ops_demand_per_s / 1000.0)),
            caption: format!("ops/s of {capacity_k}K capacity"),
            tone: mds_tone,
            caption_toned: false,
        },
        html::Card {
            label: "MDS Utilization",
            value: if o.mds_util_pct >= MDS_UTIL_CAP_PCT {
                format!("≥{MDS_UTIL_CAP_PCT:.0}%")
            } else {
                format!("{:.0}%", o.mds_util_pct)
            },
            caption: format!(
                "{} MDS node{}{}",
                i.mds,
                if i.mds == 1 { "" } else { "s" },
                if o.mds_saturated { " · saturated" } else { "" }
            ),
            tone: mds_tone,
            caption_toned: o.mds_saturated,
        },
        html::Card {
            label: "MDS Nodes Needed",
            value: o.needed_mds.to_string(),
            caption: format!("to serve the demand (have {})", i.mds),
            tone: if o.needed_mds > i.mds {
                Tone::Red
            } else {
                Tone::Green
            },
            caption_toned: false,
        },
        html::Card {
            label: "Bandwidth Headroom",
            value: format!("{:.0}%", o.bw_headroom_pct),
            caption: format!(
                "{:.1} of {:.0} GB/s supply",
                o.bw_demand_gbs, o.bw_supply_gbs
            ),
            tone: bw_tone,
            caption_toned: false,
        },
        html::Card {
            label: "Concurrent Connections",
            value: fmt_thousands(u64::from(i.total_workers())),
            caption: format!(
                "{} GPUs × {} workers",
                fmt_thousands(u64::from(i.gpus)),
                i.workers_per_gpu
            ),
            tone: Tone::Blue,
            caption_toned: false,
        },
    ];
    let callout = narrative::act2_callout(i, o);
    let page = html::frame(&format!(
        "{}{}{}{}{}",
        html::heading(
            "Act II · distributed storage designer",
            "Your design",
            &settings(RunInputs::Act2(*i))
        ),
        html::cards(&cards),
        html::formula_panel(&narrative::formula_panel(report)),
        html::recommendation("Architecture recommendation", &o.recommendation, rec_tone),
        html::callout(&callout),
    ));
    let spec = vega::act2(i, o);
    let plain = text::act2(i, o, &callout);
    finish(report, page, spec, plain)
}

fn finish(
    report: &Report,
    page: String,
    spec: serde_json::Value,
    plain: String,
) -> InstrumentOutput {
    let title = spec
        .get("title")
        .and_then(|t| t.get("text"))
        .and_then(|t| t.as_str())
        .unwrap_or("chart")
        .to_string();
    InstrumentOutput {
        chart: Media::new(vec![
            MediaType::VegaLiteV5(spec.clone()),
            MediaType::Plain(format!("[chart] {title}")),
        ]),
        bundle: Media::new(vec![
            MediaType::Html(page),
            MediaType::VegaLiteV5(spec),
            MediaType::Plain(plain),
            report_media(report),
        ]),
    }
}

/// An act's briefing followed by its prediction question.
pub fn prediction(act: Act, q: &Question, marked: Option<Choice>, hint: &str) -> Media {
    let kicker = format!("{} · your prediction", act.title());
    Media::new(vec![
        MediaType::Html(html::frame(&format!(
            "{}{}",
            briefing::html(act),
            html::question(&kicker, q, marked, hint)
        ))),
        MediaType::Plain(format!(
            "{}{}",
            briefing::plain(act),
            crate::render::text::question(&kicker, q, marked, hint)
        )),
    ])
}

/// A MathPeek as Markdown (JupyterLab typesets its `$$` equations) and plain text.
pub fn mathpeek(peek: &MathPeek) -> Media {
    Media::new(vec![
        MediaType::Markdown(format!("#### {}\n\n{}", peek.title, peek.markdown)),
        MediaType::Plain(format!("{}\n\n{}", peek.title, peek.markdown)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlsys_model::labs::data_storage::RunInputs;

    fn kinds(media: &Media) -> Vec<String> {
        let json = serde_json::to_value(media).unwrap();
        let mut keys: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    #[test]
    fn every_run_carries_the_four_mimetypes_and_the_exact_report() {
        for run in [
            RunInputs::Act1(IoInputs::default()),
            RunInputs::Act2(MdsInputs::default()),
        ] {
            let report = run.evaluate();
            let out = instrument(&report);
            assert_eq!(
                kinds(&out.bundle),
                [
                    "application/vnd.mlsys.report.v1+json",
                    "application/vnd.vegalite.v5+json",
                    "text/html",
                    "text/plain",
                ]
            );
            let MediaType::Other((_, json)) = &out.bundle.content[3] else {
                panic!()
            };
            assert_eq!(json, &serde_json::to_value(&report).unwrap());
            let MediaType::Html(page) = &out.bundle.content[0] else {
                panic!()
            };
            assert!(!page.to_lowercase().contains("<script"));
            assert_eq!(
                kinds(&out.chart),
                ["application/vnd.vegalite.v5+json", "text/plain"]
            );
        }
    }

    #[test]
    fn act1_cards_and_chart_show_the_seed_figures() {
        let report = RunInputs::Act1(IoInputs::default()).evaluate();
        let out = instrument(&report);
        let MediaType::Html(page) = &out.bundle.content[0] else {
            panic!()
        };
        for needle in [
            "GPU Utilization",
            "1%",
            "Starved",
            "I/O Wait",
            "4521.4",
            "Prefetch Queue",
            "Storage Utilization",
            "The physics",
            "672 GB/s × 0.07 × 0.25 × 0.60",
        ] {
            assert!(page.contains(needle), "{needle}");
        }
        let MediaType::VegaLiteV5(spec) = &out.bundle.content[1] else {
            panic!()
        };
        let text = serde_json::to_string(spec).unwrap();
        assert!(text.contains("Target: 80% GPU utilization"));
        assert!(text.contains("Current: 1 worker → 1%"));
        assert_eq!(
            spec["layer"][0]["data"]["values"].as_array().unwrap().len(),
            16
        );
        let MediaType::Plain(plain) = &out.bundle.content[2] else {
            panic!()
        };
        assert!(
            plain.contains("GPU utilization    1.1%  Starved"),
            "{plain}"
        );
    }

    #[test]
    fn act2_output_shows_failure_state_and_recommendation() {
        let inputs = MdsInputs {
            gpus: 4096,
            workers_per_gpu: 8,
            ..MdsInputs::default()
        };
        let out = instrument(&RunInputs::Act2(inputs).evaluate());
        let MediaType::Html(page) = &out.bundle.content[0] else {
            panic!()
        };
        for needle in [
            "4,915K",
            "Metadata server saturation",
            "Add 98 more MDS nodes",
            "99",
            "Bandwidth Headroom",
            "76%",
            "32,768",
        ] {
            assert!(page.contains(needle), "{needle}");
        }
        let MediaType::VegaLiteV5(spec) = &out.bundle.content[1] else {
            panic!()
        };
        assert_eq!(spec["data"]["values"].as_array().unwrap().len(), 32);
        assert!(serde_json::to_string(spec)
            .unwrap()
            .contains("MDS capacity: 50K ops/s (1 MDS)"));
    }
}
