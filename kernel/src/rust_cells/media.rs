//! A cell's displayed value: evcxr's `mime -> text` map as a Jupyter mime
//! bundle, with a lab's report rendered the way that lab's magics show it.

use super::ReportRenderers;
use crate::interpreter::Outputs;
use jupyter_protocol::Media;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The bundle for evcxr's outputs, `None` when the cell showed nothing (or `()`).
///
/// JSON mime types (`application/json`, `*+json`) are parsed so front ends get
/// objects; a report of a lab in `renderers` (found by its mime type) is
/// replaced by the lab's bundle, keeping any other mime type evcxr reported
/// that the rendering lacks.
pub fn to_media(
    content_by_mime_type: HashMap<String, String>,
    renderers: &ReportRenderers,
    outputs: &Outputs,
) -> Option<Media> {
    let only_unit = content_by_mime_type.len() == 1
        && content_by_mime_type.get("text/plain").map(String::as_str) == Some("()");
    if content_by_mime_type.is_empty() || only_unit {
        // A cell ending in a statement-like expression (a `for` loop) shows nothing.
        return None;
    }
    let rendered = content_by_mime_type.iter().find_map(|(mime, json)| {
        let render = renderers.get(mime.as_str())?;
        render(&serde_json::from_str(json).ok()?, outputs)
    });
    let mut bundle = Map::new();
    if let Some(Ok(Value::Object(rendered))) = rendered.map(serde_json::to_value) {
        bundle = rendered;
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
    use crate::rust_cells::ReportRenderer;
    use jupyter_protocol::MediaType;
    use std::sync::Arc;

    /// The report mime type of a lab that exists only in these tests.
    const PIPE: &str = "application/vnd.mlsys.t-pipe.report.v1+json";

    fn quiet() -> Outputs {
        Outputs::new(std::sync::mpsc::channel().0)
    }

    fn bundle(media: &Media) -> Map<String, Value> {
        match serde_json::to_value(media).unwrap() {
            Value::Object(map) => map,
            other => panic!("{other}"),
        }
    }

    /// Renders a pipe report (`{"width": n}`) as its lanes; anything else is not one.
    fn pipe_renderers() -> ReportRenderers {
        let render: ReportRenderer = Arc::new(|report: &Value, outputs: &Outputs| {
            let width = report["width"].as_u64()?;
            outputs.stdout("side output");
            Some(Media::new(vec![MediaType::Html(format!(
                "<b>{}</b>",
                "=".repeat(width as usize)
            ))]))
        });
        ReportRenderers::from([(PIPE, render)])
    }

    #[test]
    fn nothing_shown_is_no_result() {
        let none = ReportRenderers::new();
        assert!(to_media(HashMap::new(), &none, &quiet()).is_none());
        let unit = HashMap::from([("text/plain".to_owned(), "()".to_owned())]);
        assert!(to_media(unit, &none, &quiet()).is_none());
    }

    #[test]
    fn text_stays_text_and_json_mimes_are_parsed() {
        let media = to_media(
            HashMap::from([
                ("text/plain".to_owned(), "42".to_owned()),
                ("application/vnd.x+json".to_owned(), "{\"a\": 1}".to_owned()),
                ("application/json".to_owned(), "not json".to_owned()),
            ]),
            &pipe_renderers(),
            &quiet(),
        )
        .unwrap();
        let map = bundle(&media);
        assert_eq!(map["text/plain"], "42");
        assert_eq!(map["application/vnd.x+json"]["a"], 1);
        assert_eq!(map["application/json"], "not json");
    }

    #[test]
    fn a_report_gets_its_labs_bundle_plus_evcxrs_mimes() {
        let (tx, rx) = std::sync::mpsc::channel();
        let media = to_media(
            HashMap::from([(PIPE.to_owned(), r#"{"width": 3}"#.to_owned())]),
            &pipe_renderers(),
            &Outputs::new(tx),
        )
        .unwrap();
        assert_eq!(rx.try_iter().count(), 1);
        let map = bundle(&media);
        assert_eq!(map["text/html"], "<b>===</b>");
        assert_eq!(map[PIPE]["width"], 3);
    }

    #[test]
    fn a_report_its_lab_does_not_recognise_is_shown_as_json() {
        let media = to_media(
            HashMap::from([(PIPE.to_owned(), r#"{"lanes": 3}"#.to_owned())]),
            &pipe_renderers(),
            &quiet(),
        )
        .unwrap();
        let map = bundle(&media);
        assert!(!map.contains_key("text/html"));
        assert_eq!(map[PIPE]["lanes"], 3);
    }
}
