//! Hands a submission to the course's grader service when the kernel runs on
//! JupyterHub: `MLSYS_GRADER_URL` names the service, the student's own
//! `JUPYTERHUB_API_TOKEN` authenticates. Without the URL, or when the service
//! cannot take it (unreachable, busy, refusing the token), the submission goes
//! to the exchange directory and the receipt says why. A submission the service
//! refuses as invalid (422) goes nowhere: the student is told why.
//!
//! The token travels in the request, so a plain `http://` URL is accepted only
//! to this host (the Hub's proxy on loopback); a remote service must be
//! `https://` (put TLS in front of the Hub), unless `MLSYS_GRADER_ALLOW_HTTP=1`.

use crate::exchange::{submission_bytes, Delivered, Exchange, ExchangeError};
use mlsys_model::receipt::{HandInVia, ServiceReceipt};
use mlsys_model::record::Submission;
use std::net::IpAddr;
use std::time::Duration;

/// Attempts per submission; a retry sends the same bytes, which the service
/// stores once.
const ATTEMPTS: u32 = 3;

/// The longest wait between attempts a service's `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// Why a submission was not handed in.
#[derive(Debug, thiserror::Error)]
pub enum HandInError {
    /// The grader service examined the submission and refused it (HTTP 422):
    /// sending it elsewhere would not make it valid.
    #[error(
        "the grader service refused this submission: {0}. Nothing was handed in; show this to \
         course staff"
    )]
    Refused(String),
    /// Neither the service nor the exchange took it.
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}

/// Why the service did not store a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NotTaken {
    /// Refused as invalid: the reason and what the service said.
    Refused(String),
    /// Not reached, busy, or the request (not the submission) refused.
    Failed(String),
}

/// The grader service of this Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraderService {
    /// Base URL, e.g. `http://127.0.0.1:8000/services/mlsys-grader`.
    pub url: String,
    token: String,
}

/// How a submission was handed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Stored by the grader service at `url`.
    Service {
        /// The submissions endpoint.
        url: String,
        /// What the service said.
        receipt: ServiceReceipt,
        /// Size of the bytes sent.
        bytes: usize,
    },
    /// Written to the exchange directory; `fallback` says why the service was
    /// not used when one is configured.
    Exchange {
        /// The file written.
        delivered: Delivered,
        /// Why the service could not take it.
        fallback: Option<String>,
    },
}

impl Route {
    /// SHA-256 of what was stored (by the service, or in the exchange file).
    pub fn sha256(&self) -> &str {
        match self {
            Route::Service { receipt, .. } => &receipt.sha256,
            Route::Exchange { delivered, .. } => &delivered.sha256,
        }
    }

    /// Size in bytes of what was sent or written.
    pub fn bytes(&self) -> usize {
        match self {
            Route::Service { bytes, .. } => *bytes,
            Route::Exchange { delivered, .. } => delivered.bytes,
        }
    }

    /// Where the submission is: the service endpoint or the exchange file.
    pub fn location(&self) -> String {
        match self {
            Route::Service { url, .. } => url.clone(),
            Route::Exchange { delivered, .. } => delivered.path.display().to_string(),
        }
    }

    /// The exchange file, when the submission went to the exchange.
    pub fn file(&self) -> Option<String> {
        match self {
            Route::Service { .. } => None,
            Route::Exchange { .. } => Some(self.location()),
        }
    }

    /// Service or exchange.
    pub fn via(&self) -> HandInVia {
        match self {
            Route::Service { .. } => HandInVia::Service,
            Route::Exchange { .. } => HandInVia::Exchange,
        }
    }

    /// One line for the receipt: where the submission went, and why.
    pub fn via_detail(&self) -> String {
        match self {
            Route::Service { url, receipt, .. } => {
                format!("grader service {url} (as {})", receipt.student)
            }
            Route::Exchange { fallback: None, .. } => "exchange directory".to_string(),
            Route::Exchange {
                fallback: Some(why),
                ..
            } => format!("exchange directory, because the grader service failed: {why}"),
        }
    }
}

impl GraderService {
    /// The service named by `MLSYS_GRADER_URL`, authenticated with
    /// `JUPYTERHUB_API_TOKEN`; `None` when no service is configured, `Err`
    /// (why not) when the token is missing or would travel in clear
    /// (`MLSYS_GRADER_ALLOW_HTTP=1` allows that).
    pub fn from_env() -> Option<Result<GraderService, String>> {
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let allow_http = var("MLSYS_GRADER_ALLOW_HTTP")
            .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        GraderService::new(
            var("MLSYS_GRADER_URL"),
            var("JUPYTERHUB_API_TOKEN"),
            allow_http,
        )
    }

    /// A service at `url` (if any) with `token`; a plain `http://` URL to
    /// another host only when `allow_http`.
    pub fn new(
        url: Option<String>,
        token: Option<String>,
        allow_http: bool,
    ) -> Option<Result<GraderService, String>> {
        let url = url?.trim().trim_end_matches('/').to_string();
        if !allow_http && !is_private_channel(&url) {
            return Some(Err(format!(
                "MLSYS_GRADER_URL {url} is plain http to another host, so your Hub token would \
                 cross the network unencrypted; the course should serve it over https (or set \
                 MLSYS_GRADER_ALLOW_HTTP=1 on a trusted network)"
            )));
        }
        Some(match token {
            Some(token) => Ok(GraderService {
                url,
                token: token.trim().to_string(),
            }),
            None => Err(
                "JUPYTERHUB_API_TOKEN is not set, so the service cannot know who you are"
                    .to_string(),
            ),
        })
    }

    /// The submissions endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}/api/submissions", self.url)
    }

    /// The witness endpoint (see `crate::witness`).
    pub fn witness_endpoint(&self) -> String {
        format!("{}/api/witness", self.url)
    }

    /// The `Authorization` header's value: the Hub token.
    pub fn authorization(&self) -> String {
        format!("token {}", self.token)
    }

    /// POSTs `bytes`; retries on connection errors, 429 and 5xx, after the
    /// service's `Retry-After` when it says one.
    fn submit(&self, bytes: &[u8]) -> Result<ServiceReceipt, NotTaken> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(15)))
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        let url = self.endpoint();
        let mut last = String::new();
        let mut wait = Duration::ZERO;
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                let backoff = Duration::from_millis(500 * u64::from(attempt - 1));
                std::thread::sleep(wait.max(backoff));
            }
            let sent = agent
                .post(&url)
                .header("Authorization", &self.authorization())
                .header("Content-Type", "application/json")
                .send(bytes);
            let mut response = match sent {
                Ok(response) => response,
                Err(e) => {
                    last = format!("cannot reach {url}: {e}");
                    wait = Duration::ZERO;
                    continue;
                }
            };
            let status = response.status().as_u16();
            wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(Duration::ZERO, |secs| {
                    Duration::from_secs(secs).min(MAX_RETRY_AFTER)
                });
            let body = response
                .body_mut()
                .with_config()
                .limit(1 << 20)
                .read_to_string()
                .unwrap_or_default();
            match status {
                200 | 201 => {
                    return serde_json::from_str(&body).map_err(|e| {
                        NotTaken::Failed(format!("{url} answered with an unreadable receipt: {e}"))
                    })
                }
                422 => return Err(NotTaken::Refused(refusal(&body))),
                429 | 500..=599 => last = describe(status, &body),
                _ => return Err(NotTaken::Failed(describe(status, &body))),
            }
        }
        Err(NotTaken::Failed(last))
    }
}

/// Whether `url` keeps a token private: `https`, or `http` to this host.
fn is_private_channel(url: &str) -> bool {
    let Ok(uri) = url.parse::<ureq::http::Uri>() else {
        return false;
    };
    match uri.scheme_str() {
        Some("https") => true,
        Some("http") => uri.host().is_some_and(|host| {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host.eq_ignore_ascii_case("localhost")
                || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    }
}

/// The service's JSON error as one sentence.
pub(crate) fn describe(status: u16, body: &str) -> String {
    format!("HTTP {status}: {}", field(body, "message"))
}

/// A 422's reason and cause, and whether the service kept a copy.
fn refusal(body: &str) -> String {
    let kept = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("quarantined")?.as_bool())
        .unwrap_or(false);
    format!(
        "{} ({}){}",
        field(body, "message"),
        field(body, "reason"),
        if kept {
            "; the grader kept a copy for course staff"
        } else {
            ""
        }
    )
}

/// A string field of the service's JSON error, else the start of the body.
fn field(body: &str, name: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get(name)?.as_str().map(str::to_string))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// Hands `submission` in: to the grader service when `MLSYS_GRADER_URL` is
/// set, else (or when that fails) to `exchange`; not at all when the service
/// refuses it as invalid.
pub fn hand_in(submission: &Submission, exchange: &Exchange) -> Result<Route, HandInError> {
    hand_in_via(GraderService::from_env(), submission, exchange)
}

/// [`hand_in`] with the service given.
pub fn hand_in_via(
    service: Option<Result<GraderService, String>>,
    submission: &Submission,
    exchange: &Exchange,
) -> Result<Route, HandInError> {
    let fallback = match service {
        None => None,
        Some(Err(why)) => Some(why),
        Some(Ok(service)) => {
            let bytes = submission_bytes(submission);
            match service.submit(&bytes) {
                Ok(receipt) => {
                    return Ok(Route::Service {
                        url: service.endpoint(),
                        receipt,
                        bytes: bytes.len(),
                    })
                }
                Err(NotTaken::Refused(why)) => return Err(HandInError::Refused(why)),
                Err(NotTaken::Failed(why)) => Some(why),
            }
        }
    };
    let delivered = exchange.deliver(submission)?;
    Ok(Route::Exchange {
        delivered,
        fallback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use mlsys_model::receipt::ReceiptStatus;
    use mlsys_model::record::SUBMISSION_SCHEMA_VERSION;
    use std::io::Write;
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::sync::mpsc;
    use uuid::Uuid;

    fn submission() -> Submission {
        Submission {
            schema_version: SUBMISSION_SCHEMA_VERSION,
            id: Uuid::now_v7(),
            lab: "t_lab".to_string(),
            student: "ada".to_string(),
            created_at: Utc::now(),
            kernel_version: "test".to_string(),
            events: Vec::new(),
            design: None,
        }
    }

    fn exchange_dir() -> PathBuf {
        std::env::temp_dir().join(format!("mlsys-grader-client-{}", Uuid::now_v7()))
    }

    /// A loopback server answering each request with the next canned reply;
    /// sends back (authorization header, body) of every request.
    fn server(replies: Vec<(u16, &'static str)>) -> (String, mpsc::Receiver<(String, Vec<u8>)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/services/mlsys-grader",
            listener.local_addr().unwrap()
        );
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for (status, body) in replies {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let (auth, request, mut stream) = crate::testing::read_request(stream);
                let _ = sender.send((auth, request));
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Retry-After: 1\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, receiver)
    }

    const STORED: &str =
        r#"{"status":"stored","student":"ada","sha256":"abc","submission_id":"x"}"#;

    #[test]
    fn a_configured_service_gets_the_submission_with_the_students_token() {
        let (url, requests) = server(vec![(201, STORED)]);
        let exchange = Exchange::outbox(&exchange_dir());
        let sub = submission();
        let service = GraderService::new(Some(format!("{url}/")), Some("tok-123".into()), false);
        let route = hand_in_via(service, &sub, &exchange).unwrap();
        let (auth, body) = requests.recv().unwrap();
        assert_eq!(auth, "token tok-123");
        let sent: Submission = serde_json::from_slice(&body).unwrap();
        assert_eq!(sent, sub);
        assert_eq!(route.sha256(), "abc");
        let Route::Service { receipt, .. } = &route else {
            panic!("{route:?}")
        };
        assert_eq!(receipt.status, ReceiptStatus::Stored);
        assert_eq!((route.via(), route.file()), (HandInVia::Service, None));
        assert!(route
            .via_detail()
            .starts_with(&format!("grader service {url}/api/submissions")));
        assert!(!exchange_dir().exists());
    }

    #[test]
    fn a_refusing_service_or_an_unreadable_receipt_falls_back_to_the_exchange_and_says_why() {
        let refused = r#"{"error":"bad_token","message":"JupyterHub does not accept this token"}"#;
        let not_a_receipt =
            r#"{"status":"filed","student":"ada","sha256":"abc","submission_id":"x"}"#;
        for (status, body, said) in [
            (
                403,
                refused,
                "HTTP 403: JupyterHub does not accept this token",
            ),
            (201, not_a_receipt, "answered with an unreadable receipt"),
        ] {
            let (url, _requests) = server(vec![(status, body)]);
            let home = exchange_dir();
            let route = hand_in_via(
                GraderService::new(Some(url), Some("forged".into()), false),
                &submission(),
                &Exchange::outbox(&home),
            )
            .unwrap();
            let Route::Exchange {
                delivered,
                fallback,
            } = &route
            else {
                panic!("{route:?}")
            };
            assert!(delivered.path.starts_with(home.join("outbox")) && delivered.path.exists());
            let why = fallback.as_deref().unwrap();
            assert!(why.contains(said), "{why}");
            assert_eq!(route.via(), HandInVia::Exchange);
            assert!(route
                .via_detail()
                .contains("because the grader service failed"));
            let _ = std::fs::remove_dir_all(home);
        }
    }

    #[test]
    fn a_busy_service_is_retried_with_the_same_bytes_after_its_retry_after() {
        let (url, requests) = server(vec![(503, r#"{"error":"busy"}"#), (201, STORED)]);
        let home = exchange_dir();
        let started = std::time::Instant::now();
        let route = hand_in_via(
            GraderService::new(Some(url), Some("t".into()), false),
            &submission(),
            &Exchange::outbox(&home),
        )
        .unwrap();
        assert!(matches!(route, Route::Service { .. }), "{route:?}");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "the retry waits the 1 s the service asked for"
        );
        let (first, second) = (requests.recv().unwrap().1, requests.recv().unwrap().1);
        assert_eq!(first, second);
        assert!(!home.exists());
    }

    #[test]
    fn a_submission_the_service_refuses_as_invalid_goes_nowhere_and_says_why() {
        let rejected = r#"{"error":"rejected","message":"event 3 is dated before event 2","reason":"events_out_of_order","quarantined":true,"sha256":"abc"}"#;
        let (url, requests) = server(vec![(422, rejected)]);
        let home = exchange_dir();
        let error = hand_in_via(
            GraderService::new(Some(url), Some("t".into()), false),
            &submission(),
            &Exchange::outbox(&home),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the grader service refused this submission: event 3 is dated before event 2 \
             (events_out_of_order); the grader kept a copy for course staff. Nothing was handed \
             in; show this to course staff"
        );
        assert_eq!(requests.iter().count(), 1, "not retried");
        assert!(!home.exists(), "nothing written to the exchange");
    }

    #[test]
    fn the_token_is_sent_in_clear_only_to_this_host_unless_allowed() {
        let token = || Some("t".to_string());
        let remote = "http://grader.example.edu/services/mlsys-grader".to_string();
        let why = GraderService::new(Some(remote.clone()), token(), false)
            .unwrap()
            .unwrap_err();
        assert!(
            why.contains("plain http to another host") && why.contains("https"),
            "{why}"
        );
        assert!(GraderService::new(Some(remote), token(), true)
            .unwrap()
            .is_ok());
        for url in [
            "https://grader.example.edu/services/mlsys-grader",
            "http://127.0.0.1:8000/services/mlsys-grader",
            "http://localhost:8000/x",
            "http://[::1]:8000/x",
        ] {
            assert!(
                GraderService::new(Some(url.into()), token(), false)
                    .unwrap()
                    .is_ok(),
                "{url}"
            );
        }
        for url in ["http://10.0.0.5:8000/x", "ftp://127.0.0.1/x", "not a url"] {
            assert!(
                GraderService::new(Some(url.into()), token(), false)
                    .unwrap()
                    .is_err(),
                "{url}"
            );
        }
    }

    #[test]
    fn without_a_token_or_a_url_the_exchange_is_used() {
        let home = exchange_dir();
        let exchange = Exchange::outbox(&home);
        let no_token = GraderService::new(Some("http://127.0.0.1:9".into()), None, false);
        let route = hand_in_via(no_token, &submission(), &exchange).unwrap();
        assert!(
            route
                .via_detail()
                .contains("JUPYTERHUB_API_TOKEN is not set"),
            "{}",
            route.via_detail()
        );
        let route = hand_in_via(
            GraderService::new(None, Some("t".into()), false),
            &submission(),
            &exchange,
        )
        .unwrap();
        assert_eq!(route.via_detail(), "exchange directory");
        let _ = std::fs::remove_dir_all(home);
    }
}
