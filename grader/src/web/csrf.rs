//! Cross-site request refusal for the pages' state-changing POSTs: the
//! browser's own word on where the request comes from (`Sec-Fetch-Site`,
//! `Origin`) must be this service's origin, and the form must carry the
//! session's CSRF token (checked by the handler, see [`token_matches`]).

use super::session::same;
use axum::http::{header, HeaderMap};

/// Why a POST is refused as cross-site, for the 403 page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossSite(pub String);

/// Checks that a POST comes from a page of this origin: `Sec-Fetch-Site`, when
/// the browser sends it, is `same-origin` (or `none`: typed by the user), and
/// `Origin`, when sent, names the host the request was sent to (`Host`, which
/// the Hub's proxy passes on).
pub fn same_origin(headers: &HeaderMap) -> Result<(), CrossSite> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return Err(CrossSite(format!(
                "the browser says this request comes from another site (Sec-Fetch-Site: {site})"
            )));
        }
    }
    if let Some(origin) = text(header::ORIGIN.as_str()) {
        let host = text(header::HOST.as_str()).unwrap_or_default();
        let authority = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'));
        if authority.is_none_or(|a| !a.eq_ignore_ascii_case(host)) {
            return Err(CrossSite(format!(
                "this request comes from {origin}, not from this site"
            )));
        }
    }
    Ok(())
}

/// Whether a form's `csrf` field is its session's token.
pub fn token_matches(session_token: &str, sent: Option<&str>) -> bool {
    sent.is_some_and(|sent| same(session_token, sent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn a_post_from_the_services_own_pages_passes() {
        let own = headers(&[
            ("host", "127.0.0.1:8000"),
            ("origin", "http://127.0.0.1:8000"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(same_origin(&own), Ok(()));
        // A client that is no browser sends neither header: the form token decides.
        assert_eq!(same_origin(&headers(&[("host", "h")])), Ok(()));
    }

    #[test]
    fn a_post_from_another_site_or_port_or_an_opaque_origin_is_refused() {
        for (origin, site) in [
            ("http://evil.example", "cross-site"),
            ("http://127.0.0.1:9999", "same-site"),
            ("null", "cross-site"),
        ] {
            let refused = same_origin(&headers(&[
                ("host", "127.0.0.1:8000"),
                ("origin", origin),
                ("sec-fetch-site", site),
            ]));
            assert!(refused.is_err(), "{origin} {site}");
        }
        // Origin alone (an older browser) is enough to refuse.
        let refused = same_origin(&headers(&[
            ("host", "127.0.0.1:8000"),
            ("origin", "http://127.0.0.1:9999"),
        ]));
        assert!(refused.unwrap_err().0.contains("127.0.0.1:9999"));
    }

    #[test]
    fn the_form_token_must_be_the_sessions() {
        assert!(token_matches("abc", Some("abc")));
        assert!(!token_matches("abc", Some("abd")));
        assert!(!token_matches("abc", None));
        assert!(!token_matches("abc", Some("")));
    }
}
