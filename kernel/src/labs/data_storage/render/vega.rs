//! Vega-Lite v5 specs of the seed's charts, data inline. Every word on them
//! (titles, axes, legend entries, markers) is the model's (`charts`).

use crate::render::palette::{self, Tone};
use mlsys_model::labs::data_storage::act1::{IoInputs, IoOutputs};
use mlsys_model::labs::data_storage::act2::{MdsInputs, MdsOutputs};
use mlsys_model::labs::data_storage::charts::{act1_chart, act2_chart};
use mlsys_model::labs::data_storage::constants::{GPUS, HEALTHY_UTIL_PCT, WORKERS};
use serde_json::{json, Value};

const SCHEMA: &str = "https://vega.github.io/schema/vega-lite/v5.json";

/// Act I: GPU utilization vs. workers, the current point and the target line
/// (the healthy utilization).
pub fn act1(i: &IoInputs, o: &IoOutputs, tone: Tone) -> Value {
    let curve: Vec<Value> = WORKERS
        .values()
        .zip(&o.util_curve)
        .map(|(w, u)| json!({"workers": w, "util": u}))
        .collect();
    let t = act1_chart(i, o);
    let x = json!({"field": "workers", "type": "quantitative", "title": t.x_axis,
                   "scale": {"domain": [WORKERS.min, WORKERS.max], "nice": false}, "axis": {"tickMinStep": 1}});
    let y = json!({"field": "util", "type": "quantitative", "title": t.y_axis,
                   "scale": {"domain": [0, 105]}});
    let (current, target) = (t.current, t.target);
    let mut spec = json!({
        "$schema": SCHEMA,
        "title": {"text": t.title, "fontSize": 13},
        "width": 560,
        "height": 260,
        "layer": [
            {
                "data": {"values": null},
                "mark": {"type": "line", "point": {"size": 45, "filled": true, "color": palette::color(Tone::Blue)},
                         "color": palette::color(Tone::Blue), "strokeWidth": 2.5},
                "encoding": {"x": x, "y": y, "tooltip": [
                    {"field": "workers", "title": t.x_axis},
                    {"field": "util", "title": t.curve, "format": ".1f"}]}
            },
            {
                "data": {"values": [{"util": HEALTHY_UTIL_PCT, "label": target}]},
                "layer": [
                    {"mark": {"type": "rule", "strokeDash": [6, 4], "color": palette::color(Tone::Green), "strokeWidth": 1.5},
                     "encoding": {"y": {"field": "util", "type": "quantitative"}}},
                    {"mark": {"type": "text", "align": "right", "baseline": "bottom", "dy": -4, "x": "width",
                              "color": palette::color(Tone::Green), "fontSize": 11},
                     "encoding": {"y": {"field": "util", "type": "quantitative"}, "text": {"field": "label"}}}
                ]
            },
            {
                "data": {"values": [{"workers": i.workers, "util": o.gpu_util_pct, "label": current}]},
                "layer": [
                    {"mark": {"type": "point", "filled": true, "size": 260, "color": palette::color(tone),
                              "stroke": "white", "strokeWidth": 2, "opacity": 1},
                     "encoding": {"x": {"field": "workers", "type": "quantitative"},
                                  "y": {"field": "util", "type": "quantitative"},
                                  "tooltip": {"field": "label"}}},
                    {"mark": {"type": "text", "align": "left", "dx": 12, "dy": -10, "fontWeight": "bold",
                              "color": palette::color(tone), "fontSize": 12},
                     "encoding": {"x": {"field": "workers", "type": "quantitative"},
                                  "y": {"field": "util", "type": "quantitative"},
                                  "text": {"field": "label"}}}
                ]
            }
        ]
    });
    // Moved in, not re-serialized by `json!`.
    spec["layer"][0]["data"]["values"] = Value::Array(curve);
    spec
}

/// Act II: bandwidth and metadata demand vs. GPU count against supply and MDS
/// capacity (two y axes), the current GPU count marked.
pub fn act2(i: &MdsInputs, o: &MdsOutputs) -> Value {
    let t = act2_chart(i, o);
    let (bw_name, ops_name) = (t.bandwidth_demand, t.metadata_demand);
    let (supply_name, capacity_name) = (t.bandwidth_supply, t.mds_capacity);
    let capacity_k = f64::from(o.mds_capacity_per_s) / 1000.0;
    let rows: Vec<Value> = GPUS
        .values()
        .zip(o.bw_demand_curve.iter().zip(&o.ops_demand_curve))
        .map(|(g, (bw, ops))| json!({"gpus": g, "bw": bw, "ops_k": ops / 1000.0}))
        .collect();
    let x = json!({"field": "gpus", "type": "quantitative", "title": t.x_axis,
                   "scale": {"domain": [GPUS.min, GPUS.max], "nice": false}});
    let color_scale = json!({
        "domain": [bw_name, supply_name, ops_name, capacity_name],
        "range": [palette::color(Tone::Blue), palette::color(Tone::Green),
                  palette::color(Tone::Orange), palette::color(Tone::Red)]
    });
    let legend = json!({"orient": "top", "title": null, "columns": 2, "symbolType": "stroke"});
    // The first layer carries the shared colour scale and legend; the others name their datum.
    let color = |name: &str| json!({"datum": name});
    let mut spec = json!({
        "$schema": SCHEMA,
        "title": {"text": t.title, "fontSize": 13},
        "width": 560,
        "height": 280,
        "data": {"values": null},
        "layer": [
            {
                "layer": [
                    {"mark": {"type": "line", "strokeWidth": 2.5},
                     "encoding": {"x": x, "y": {"field": "bw", "type": "quantitative", "title": t.bandwidth_axis,
                                                "axis": {"titleColor": palette::color(Tone::Blue)}},
                                  "color": {"datum": bw_name, "scale": color_scale, "legend": legend},
                                  "tooltip": [{"field": "gpus", "title": t.x_axis},
                                              {"field": "bw", "title": t.bandwidth_demand, "format": ".1f"}]}},
                    {"mark": {"type": "rule", "strokeDash": [6, 4], "strokeWidth": 1.5},
                     "encoding": {"y": {"datum": o.bw_supply_gbs, "type": "quantitative"},
                                  "color": color(&supply_name)}}
                ]
            },
            {
                "layer": [
                    {"mark": {"type": "line", "strokeWidth": 2.5, "strokeDash": [2, 3]},
                     "encoding": {"x": x, "y": {"field": "ops_k", "type": "quantitative", "title": t.metadata_axis,
                                                "axis": {"orient": "right", "titleColor": palette::color(Tone::Orange)}},
                                  "color": color(ops_name),
                                  "tooltip": [{"field": "gpus", "title": t.x_axis},
                                              {"field": "ops_k", "title": t.metadata_demand, "format": ",.1f"}]}},
                    {"mark": {"type": "rule", "strokeDash": [6, 4], "strokeWidth": 1.5},
                     "encoding": {"y": {"datum": capacity_k, "type": "quantitative"},
                                  "color": color(&capacity_name)}}
                ]
            },
            {
                "data": {"values": [{"gpus": i.gpus, "label": t.current}]},
                "layer": [
                    {"mark": {"type": "rule", "color": palette::color(Tone::Indigo), "strokeWidth": 2},
                     "encoding": {"x": {"field": "gpus", "type": "quantitative"}}},
                    {"mark": {"type": "text", "y": 0, "dy": -6, "align": "center", "baseline": "bottom",
                              "fontWeight": "bold", "color": palette::color(Tone::Indigo), "fontSize": 11},
                     "encoding": {"x": {"field": "gpus", "type": "quantitative"}, "text": {"field": "label"}}}
                ]
            }
        ],
        "resolve": {"scale": {"y": "independent"}}
    });
    spec["data"]["values"] = Value::Array(rows);
    spec
}
