//! Turns the lab's model results into Jupyter mime bundles: an instrument
//! run's cards (with what limits the run) and its chart carrying the report,
//! the briefing and question before an answer, and MathPeeks (callouts,
//! questions and tables are lab-neutral: `crate::render`).

pub mod briefing;
pub mod text;
pub mod vega;

use super::answers::Kind;
use crate::render::html;
use crate::render::palette::Tone;
use jupyter_protocol::{Media, MediaType};
use mlsys_model::content::Question;
use mlsys_model::format::{fmt_kilo, fmt_thousands};
use mlsys_model::labs::data_storage::act1::{IoInputs, IoOutputs, UtilStatus};
use mlsys_model::labs::data_storage::act2::{MdsInputs, MdsOutputs, RecommendationKind};
use mlsys_model::labs::data_storage::briefing::Section;
use mlsys_model::labs::data_storage::constants::{
    MDS_UTIL_CAP_PCT, MDS_WARN_UTIL_PCT, STORAGE_UTIL_FAIR_PCT, STORAGE_UTIL_LOW_PCT,
};
use mlsys_model::labs::data_storage::narrative::{self, MathPeek};
use mlsys_model::labs::data_storage::{Report, RunInputs};
use mlsys_model::{Act, Choice};

/// What an instrument run shows, in this order: the cards, then the chart.
/// They are two outputs because JupyterLab renders one mimetype per bundle.
pub struct InstrumentOutput {
    /// The cards, what limits the run and the formulas: HTML and text.
    pub cards: Media,
    /// The Vega-Lite chart with its title as text, and the report JSON.
    pub chart: Media,
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
    let binds = narrative::what_binds(report);
    let page = html::frame(&format!(
        "{}{}{}{}",
        html::heading(
            "Act I · I/O bottleneck analyzer",
            "Your run",
            &settings(RunInputs::Act1(*i))
        ),
        html::cards(&cards),
        html::callout(&binds),
        html::formula_panel(&physics_title(), &narrative::formula_panel(report)),
    ));
    let spec = vega::act1(i, o, tone);
    let plain = text::act1(i, o, &binds);
    finish(report, page, spec, plain)
}

/// The formula panel's heading, as the seed's "The physics (from @sec-data-storage)".
fn physics_title() -> String {
    format!(
        "The physics (from {})",
        Section::PipelineArchitecture.reference()
    )
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
    let binds = narrative::what_binds(report);
    let callout = narrative::act2_callout(i, o);
    let recommendation = narrative::recommendation(i, o);
    let page = html::frame(&format!(
        "{}{}{}{}{}{}",
        html::heading(
            "Act II · distributed storage designer",
            "Your design",
            &settings(RunInputs::Act2(*i))
        ),
        html::cards(&cards),
        html::callout(&binds),
        html::formula_panel(&physics_title(), &narrative::formula_panel(report)),
        html::recommendation("Architecture recommendation", &recommendation, rec_tone),
        html::callout(&callout),
    ));
    let spec = vega::act2(i, o);
    let plain = text::act2(i, o, &binds, &callout, &recommendation);
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
        cards: Media::new(vec![MediaType::Html(page), MediaType::Plain(plain)]),
        chart: Media::new(vec![
            MediaType::VegaLiteV5(spec),
            MediaType::Plain(format!("[chart] {title}")),
            report_media(report),
        ]),
    }
}

/// What a question shows above its options: for a prediction the act's
/// briefing with the seed's lead-in, then the kicker and the prompt.
pub fn question_header(kind: Kind, act: Act) -> String {
    let intro = match kind {
        Kind::Prediction => briefing::html(act),
        Kind::Reflection => String::new(),
    };
    let q = kind.question(act);
    html::frame(&format!(
        "{intro}{}",
        html::prompt(&kind.kicker(act), &q.prompt)
    ))
}

/// A question in full (briefing, options and `hint`, `marked` flagged), for
/// front ends that show no widgets, as HTML and text.
pub fn question(kind: Kind, act: Act, q: &Question, marked: Option<Choice>, hint: &str) -> Media {
    let kicker = kind.kicker(act);
    let (intro_html, intro_plain) = match kind {
        Kind::Prediction => (briefing::html(act), briefing::plain(act)),
        Kind::Reflection => (String::new(), String::new()),
    };
    Media::new(vec![
        MediaType::Html(html::frame(&format!(
            "{intro_html}{}",
            html::question(&kicker, q, marked, hint)
        ))),
        MediaType::Plain(format!(
            "{intro_plain}{}",
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
    use crate::render::text as plain_text;
    use mlsys_model::labs::data_storage::charts::{act1_chart, act2_chart};
    use mlsys_model::labs::data_storage::{Context, DatasetLayout, RunInputs};

    fn kinds(media: &Media) -> Vec<String> {
        let json = serde_json::to_value(media).unwrap();
        let mut keys: Vec<String> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The cards' HTML and text, and the chart's spec.
    fn parts(out: &InstrumentOutput) -> (String, String, serde_json::Value) {
        let [MediaType::Html(page), MediaType::Plain(plain)] = &out.cards.content[..] else {
            panic!("cards are HTML and text")
        };
        let MediaType::VegaLiteV5(spec) = &out.chart.content[0] else {
            panic!("the chart comes first in its bundle")
        };
        (page.clone(), plain.clone(), spec.clone())
    }

    #[test]
    fn every_run_shows_cards_then_a_chart_carrying_the_exact_report() {
        for run in [
            RunInputs::Act1(IoInputs::default()),
            RunInputs::Act2(MdsInputs::default()),
        ] {
            let report = run.evaluate();
            let out = instrument(&report);
            assert_eq!(kinds(&out.cards), ["text/html", "text/plain"]);
            assert_eq!(
                kinds(&out.chart),
                [
                    "application/vnd.mlsys.report.v1+json",
                    "application/vnd.vegalite.v5+json",
                    "text/plain",
                ]
            );
            let MediaType::Other((_, json)) = &out.chart.content[2] else {
                panic!()
            };
            assert_eq!(*json, serde_json::to_value(&report).unwrap());
            let (page, ..) = parts(&out);
            assert!(!page.to_lowercase().contains("<script"));
        }
    }

    #[test]
    fn act1_cards_and_chart_show_the_seed_figures() {
        let report = RunInputs::Act1(IoInputs::default()).evaluate();
        let out = instrument(&report);
        let (page, plain, spec) = parts(&out);
        for needle in [
            "GPU Utilization",
            "1%",
            "Starved",
            "I/O Wait",
            "4521.4",
            "Prefetch Queue",
            "Storage Utilization",
            "The physics (from Chapter 4, &quot;Data Pipeline Architecture&quot;)",
            "672 GB/s × 0.07 × 0.25 × 0.60",
        ] {
            assert!(page.contains(needle), "{needle}");
        }
        let text = serde_json::to_string(&spec).unwrap();
        assert!(text.contains("Target: 80% GPU utilization"));
        assert!(text.contains("Current: 1 worker → 1%"));
        assert_eq!(
            spec["layer"][0]["data"]["values"].as_array().unwrap().len(),
            16
        );
        assert!(
            plain.contains("GPU utilization    1.1%  Starved"),
            "{plain}"
        );
    }

    #[test]
    fn the_cards_say_what_binds_in_the_models_words() {
        let runs = [
            RunInputs::Act1(IoInputs::default()),
            RunInputs::Act1(IoInputs {
                workers: 8,
                pattern: mlsys_model::labs::data_storage::ReadPattern::Sequential,
                osts: 48,
                ..IoInputs::default()
            }),
            RunInputs::Act2(MdsInputs::default()),
            RunInputs::Act2(MdsInputs {
                layout: DatasetLayout::ObjectStore,
                context: Context::Nvme,
                ..MdsInputs::default()
            }),
        ];
        for run in runs {
            let report = run.evaluate();
            let binds = narrative::what_binds(&report);
            let (page, plain, _) = parts(&instrument(&report));
            assert!(page.contains(&html::callout(&binds)), "{run:?}");
            assert!(plain.contains(&plain_text::callout(&binds)), "{run:?}");
        }
        let (page, ..) = parts(&instrument(
            &RunInputs::Act1(IoInputs::default()).evaluate(),
        ));
        assert!(
            page.contains("What limits this run: the read pattern"),
            "{page}"
        );
        assert!(page.contains("IB fabric"), "the fabric's cost is listed");
    }

    #[test]
    fn chart_words_are_the_models_and_an_nvme_chart_names_no_osts() {
        for context in [Context::DistributedFs, Context::Nvme] {
            let i = IoInputs {
                context,
                ..IoInputs::default()
            };
            let report = RunInputs::Act1(i).evaluate();
            let Report::Act1 { outputs, .. } = &report else {
                panic!()
            };
            let t = act1_chart(&i, outputs);
            let (_, _, spec) = parts(&instrument(&report));
            assert_eq!(spec["title"]["text"], t.title);
            let x = &spec["layer"][0]["encoding"]["x"];
            assert_eq!(x["title"], t.x_axis);
            assert_eq!(spec["layer"][0]["encoding"]["y"]["title"], t.y_axis);
            let text = serde_json::to_string(&spec).unwrap();
            assert!(text.contains(&t.current) && text.contains(&t.target));
            assert_eq!(
                t.title.contains("OST"),
                context == Context::DistributedFs,
                "{}",
                t.title
            );
        }
        let i = MdsInputs {
            layout: DatasetLayout::ObjectStore,
            context: Context::Nvme,
            ..MdsInputs::default()
        };
        let report = RunInputs::Act2(i).evaluate();
        let Report::Act2 { outputs, .. } = &report else {
            panic!()
        };
        let t = act2_chart(&i, outputs);
        let (_, _, spec) = parts(&instrument(&report));
        assert_eq!(spec["title"]["text"], t.title);
        let text = serde_json::to_string(&spec).unwrap();
        for words in [
            t.x_axis,
            t.bandwidth_axis,
            t.metadata_axis,
            t.bandwidth_demand,
            t.metadata_demand,
            &t.bandwidth_supply,
            &t.mds_capacity,
            &t.current,
        ] {
            assert!(text.contains(words), "{words}");
        }
        assert!(text.contains("Local NVMe supply: 28 GB/s"));
    }

    #[test]
    fn act2_output_shows_failure_state_and_recommendation() {
        let inputs = MdsInputs {
            gpus: 4096,
            workers_per_gpu: 8,
            ..MdsInputs::default()
        };
        let out = instrument(&RunInputs::Act2(inputs).evaluate());
        let (page, _, spec) = parts(&out);
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
        assert_eq!(spec["data"]["values"].as_array().unwrap().len(), 32);
        assert!(serde_json::to_string(&spec)
            .unwrap()
            .contains("MDS capacity: 50K ops/s (1 MDS)"));
    }

    #[test]
    fn the_designer_recommends_what_the_model_supports_not_the_seeds_words() {
        // On one NVMe node an object store runs out of bandwidth: the seed's
        // "Scales to any GPU count" would be false here.
        let i = MdsInputs {
            layout: DatasetLayout::ObjectStore,
            context: Context::Nvme,
            ..MdsInputs::default()
        };
        let report = RunInputs::Act2(i).evaluate();
        let Report::Act2 { outputs, .. } = &report else {
            panic!()
        };
        let corrected = narrative::recommendation(&i, outputs);
        assert_ne!(corrected, outputs.recommendation);
        let (page, plain, _) = parts(&instrument(&report));
        assert!(page.contains(&html::escape(&corrected)), "{page}");
        assert!(plain.contains(&format!("Recommendation: {corrected}")));
        assert!(!page.contains("Scales to any GPU count"));
    }
}
