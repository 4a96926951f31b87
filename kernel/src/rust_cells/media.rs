//! A cell's displayed value: evcxr's `mime -> text` map as a Jupyter mime
//! bundle, with model reports rendered the way the lab's magics show them.

use jupyter_protocol::Media;
use mlsys_model::labs::data_storage::Report;
use serde_json::{Map, Value};
use std::collections::HashMap;

use super::ReportRenderer;
use crate::interpreter::Outputs;

/// The bundle for evcxr's outputs, `None` when the cell showed nothing (or `()`).
///
/// JSON mime types (`application/json`, `*+json`) are parsed so front ends get
/// objects; a report is replaced by `render`'s bundle, keeping any other mime
/// type evcxr reported that the rendering lacks.
pub fn to_media(
    content_by_mime_type: HashMap<String, String>,
    render: Option<&ReportRenderer>,
    outputs: &Outputs,
) -> Option<Media> {
    let only_unit = content_by_mime_type.len() == 1
        && content_by_mime_type.get("text/plain").map(String::as_str) == Some("()");
    if content_by_mime_type.is_empty() || only_unit {
        // A cell ending in a statement-like expression (a `for` loop) shows nothing.
        return None;
    }
    let report = content_by_mime_type
        .get(Report::MIME_TYPE)
        .and_then(|json| serde_json::from_str::<Report>(json).ok());
    let mut bundle = Map::new();
    if let (Some(report), Some(render)) = (report, render) {
        if let Ok(Value::Object(rendered)) = serde_json::to_value(render(&report, outputs)) {
            bundle = rendered;
        }
    }
    for (mime, text) in content_by_mime_type {
        if bundle.contains_key(&mime) {
            continue;
        }
        let value = if is_json_mime(&mime) {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        } else {
            Value::String(text)
        };
        bundle.insert(mime, value);
    }
    serde_json::from_value(Value::Object(bundle)).ok()
}

fn is_json_mime(mime: &str) -> bool {
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jupyter_protocol::MediaType;
    use mlsys_model::labs::data_storage::{IoInputs, RunInputs};
    use std::sync::Arc;

    fn quiet() -> Outputs {
        Outputs::new(std::sync::mpsc::channel().0)
    }

    fn bundle(media: &Media) -> Map<String, Value> {
        match serde_json::to_value(media).unwrap() {
            Value::Object(map) => map,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn nothing_shown_is_no_result() {
        assert!(to_media(HashMap::new(), None, &quiet()).is_none());
        let unit = HashMap::from([("text/plain".to_owned(), "()".to_owned())]);
        assert!(to_media(unit, None, &quiet()).is_none());
    }

    #[test]
    fn text_stays_text_and_json_mimes_are_parsed() {
        let media = to_media(
            HashMap::from([
                ("text/plain".to_owned(), "42".to_owned()),
                ("application/vnd.x+json".to_owned(), "{\"a\": 1}".to_owned()),
                ("application/json".to_owned(), "not json".to_owned()),
            ]),
            None,
            &quiet(),
        )
        .unwrap();
        let map = bundle(&media);
        assert_eq!(map["text/plain"], "42");
        assert_eq!(map["application/vnd.x+json"]["a"], 1);
        assert_eq!(map["application/json"], "not json");
    }

    #[test]
    fn a_report_gets_the_renderers_bundle_plus_evcxrs_mimes() {
        let report = RunInputs::Act1(IoInputs::default()).evaluate();
        let json = serde_json::to_string(&report).unwrap();
        let render: ReportRenderer = Arc::new(|report: &Report, outputs: &Outputs| {
            outputs.stdout("side output");
            Media::new(vec![MediaType::Html(format!("<b>{:?}</b>", report.act()))])
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let media = to_media(
            HashMap::from([(Report::MIME_TYPE.to_owned(), json)]),
            Some(&render),
            &Outputs::new(tx),
        )
        .unwrap();
        assert_eq!(rx.try_iter().count(), 1);
        let map = bundle(&media);
        assert_eq!(map["text/html"], "<b>Act1</b>");
        assert_eq!(map[Report::MIME_TYPE]["outputs"]["status"], "starved");
    }
}
