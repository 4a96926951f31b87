//! The service's settings: command-line flags, defaulting to the environment
//! JupyterHub gives a managed service (`JUPYTERHUB_SERVICE_NAME`,
//! `JUPYTERHUB_SERVICE_URL`, `JUPYTERHUB_SERVICE_PREFIX`, `JUPYTERHUB_API_URL`,
//! `JUPYTERHUB_API_TOKEN`).

use super::store::StoreLimits;
use crate::db::intake::QuarantineQuota;
use crate::error::GraderError;
use crate::source::DEFAULT_MAX_BYTES;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// `mlsys-grader serve` flags. Tokens are read from the environment only.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default: host:port of $JUPYTERHUB_SERVICE_URL, else 127.0.0.1:10101).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// URL path prefix of every route (default: $JUPYTERHUB_SERVICE_PREFIX, else `/`).
    #[arg(long, value_name = "PATH")]
    pub prefix: Option<String>,
    /// The Hub's REST API (default: $JUPYTERHUB_API_URL), e.g. http://127.0.0.1:8081/hub/api.
    #[arg(long, value_name = "URL")]
    pub hub_api_url: Option<String>,
    /// The service's name in the Hub (default: $JUPYTERHUB_SERVICE_NAME, else
    /// mlsys-grader): a token is accepted only with the scope
    /// `access:services!service=NAME` (or `access:services`).
    #[arg(long, value_name = "NAME")]
    pub service_name: Option<String>,
    /// Members of this Hub group (and Hub admins) are instructors.
    #[arg(long, default_value = "instructors", value_name = "GROUP")]
    pub instructors_group: String,
    /// Rubric for `POST /api/score` (default: the built-in rubric).
    #[arg(long, value_name = "FILE")]
    pub rubric: Option<PathBuf>,
    /// Largest accepted request body, in KiB.
    #[arg(long, default_value_t = DEFAULT_MAX_BYTES / 1024, value_name = "KIB")]
    pub max_body_kib: usize,
    /// Requests a user may make at once before the rate limit applies.
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub rate_burst: u32,
    /// Sustained requests per minute per user.
    #[arg(long, default_value_t = 120, value_name = "N")]
    pub rate_per_minute: u32,
    /// How long a student's verified token is trusted before the Hub is asked
    /// again, in seconds (instructor requests always ask the Hub).
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub identity_ttl: u64,
    /// How long to wait for the Hub API, in seconds.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub hub_timeout: u64,
    /// Tokens the Hub refused that one client may send at once before it is
    /// refused without asking the Hub.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub auth_failures_burst: u32,
    /// Refused tokens per minute one client may send after that.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub auth_failures_per_minute: u32,
    /// Seconds a client has to send a request's headers; also how long a
    /// kept-alive connection may stay idle.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub header_timeout: u64,
    /// Seconds a whole request may take (its body included).
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub request_timeout: u64,
    /// Connections served at once; more wait to be accepted.
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub max_connections: usize,
    /// Rejected hand-ins one student may keep in quarantine.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub quarantine_max_records: u64,
    /// Bytes (compressed, in KiB) one student may keep in quarantine.
    #[arg(long, default_value_t = 8192, value_name = "KIB")]
    pub quarantine_max_kib: u64,
    /// How long a hand-in waits for another writer (e.g. `mlsys-grader
    /// ingest`) before it is answered 503, in milliseconds.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub busy_wait_ms: u64,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The grader database.
    pub db: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Route prefix without a trailing slash (empty for `/`).
    pub prefix: String,
    /// The Hub API base URL, without a trailing slash.
    pub hub_api_url: String,
    /// The service's own Hub token (to look up users' groups).
    pub service_token: Option<String>,
    /// The service's Hub name (for the access scope).
    pub service_name: String,
    /// The instructors' Hub group.
    pub instructors_group: String,
    /// Rubric file for scoring.
    pub rubric: Option<PathBuf>,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Per-user burst.
    pub rate_burst: u32,
    /// Per-user sustained rate.
    pub rate_per_minute: u32,
    /// Identity cache lifetime.
    pub identity_ttl: Duration,
    /// Hub API timeout.
    pub hub_timeout: Duration,
    /// Per-client burst of refused tokens.
    pub auth_failures_burst: u32,
    /// Per-client sustained rate of refused tokens.
    pub auth_failures_per_minute: u32,
    /// Header (and idle) timeout.
    pub header_timeout: Duration,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// Concurrent connections.
    pub max_connections: usize,
    /// Quarantine quota and busy wait.
    pub store: StoreLimits,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl ServeConfig {
    /// Resolves `args` against the environment.
    pub fn resolve(db: PathBuf, args: ServeArgs) -> Result<ServeConfig, GraderError> {
        let bad = |m: String| GraderError::Precondition(m);
        let listen_text = match args.listen {
            Some(listen) => listen,
            None => match env("JUPYTERHUB_SERVICE_URL") {
                Some(url) => host_port(&url).ok_or_else(|| {
                    bad(format!("JUPYTERHUB_SERVICE_URL {url:?} has no host:port"))
                })?,
                None => "127.0.0.1:10101".to_string(),
            },
        };
        let listen = listen_text
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .ok_or_else(|| bad(format!("cannot listen on {listen_text:?}: not a HOST:PORT")))?;
        let prefix = args
            .prefix
            .or_else(|| env("JUPYTERHUB_SERVICE_PREFIX"))
            .unwrap_or_default();
        let prefix = format!("/{}", prefix.trim_matches('/'));
        let prefix = if prefix == "/" { String::new() } else { prefix };
        let hub_api_url = args
            .hub_api_url
            .or_else(|| env("JUPYTERHUB_API_URL"))
            .ok_or_else(|| {
                bad(
                    "no Hub API: set JUPYTERHUB_API_URL (JupyterHub does for a managed \
                     service) or pass --hub-api-url"
                        .into(),
                )
            })?
            .trim_end_matches('/')
            .to_string();
        let positive = [
            ("--rate-burst", u64::from(args.rate_burst)),
            ("--rate-per-minute", u64::from(args.rate_per_minute)),
            ("--max-body-kib", args.max_body_kib as u64),
            ("--auth-failures-burst", u64::from(args.auth_failures_burst)),
            (
                "--auth-failures-per-minute",
                u64::from(args.auth_failures_per_minute),
            ),
            ("--header-timeout", args.header_timeout),
            ("--request-timeout", args.request_timeout),
            ("--hub-timeout", args.hub_timeout),
            ("--max-connections", args.max_connections as u64),
        ];
        if let Some((flag, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(bad(format!("{flag} must be positive")));
        }
        Ok(ServeConfig {
            db,
            listen,
            prefix,
            hub_api_url,
            service_token: env("JUPYTERHUB_API_TOKEN"),
            service_name: args
                .service_name
                .or_else(|| env("JUPYTERHUB_SERVICE_NAME"))
                .unwrap_or_else(|| "mlsys-grader".to_string()),
            instructors_group: args.instructors_group,
            rubric: args.rubric,
            max_body_bytes: args.max_body_kib * 1024,
            rate_burst: args.rate_burst,
            rate_per_minute: args.rate_per_minute,
            identity_ttl: Duration::from_secs(args.identity_ttl),
            hub_timeout: Duration::from_secs(args.hub_timeout),
            auth_failures_burst: args.auth_failures_burst,
            auth_failures_per_minute: args.auth_failures_per_minute,
            header_timeout: Duration::from_secs(args.header_timeout),
            request_timeout: Duration::from_secs(args.request_timeout),
            max_connections: args.max_connections,
            store: StoreLimits {
                quota: QuarantineQuota {
                    records: args.quarantine_max_records,
                    bytes: args.quarantine_max_kib * 1024,
                },
                busy_wait: Duration::from_millis(args.busy_wait_ms),
            },
        })
    }
}

/// `host:port` of an http(s) URL (the port defaults by scheme).
fn host_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    if authority.is_empty() {
        return None;
    }
    if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        return Some(authority.to_string());
    }
    let port = if scheme == "https" { 443 } else { 80 };
    Some(format!("{authority}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn service_urls_give_their_listen_address() {
        assert_eq!(
            host_port("http://127.0.0.1:10101").as_deref(),
            Some("127.0.0.1:10101")
        );
        assert_eq!(
            host_port("http://127.0.0.1:10101/services/x/").as_deref(),
            Some("127.0.0.1:10101")
        );
        assert_eq!(host_port("http://grader").as_deref(), Some("grader:80"));
        assert_eq!(host_port("nonsense"), None);
    }
}
