//! The service's settings: command-line flags, defaulting to the environment
//! JupyterHub gives a managed service (`JUPYTERHUB_SERVICE_URL`,
//! `JUPYTERHUB_SERVICE_PREFIX`, `JUPYTERHUB_API_URL`, `JUPYTERHUB_API_TOKEN`).

use crate::error::GraderError;
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
    /// Members of this Hub group (and Hub admins) are instructors.
    #[arg(long, default_value = "instructors", value_name = "GROUP")]
    pub instructors_group: String,
    /// Rubric for `POST /api/score` (default: the built-in rubric).
    #[arg(long, value_name = "FILE")]
    pub rubric: Option<PathBuf>,
    /// Largest accepted request body, in KiB.
    #[arg(long, default_value_t = 2048, value_name = "KIB")]
    pub max_body_kib: usize,
    /// Requests a user may make at once before the rate limit applies.
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub rate_burst: u32,
    /// Sustained requests per minute per user.
    #[arg(long, default_value_t = 120, value_name = "N")]
    pub rate_per_minute: u32,
    /// How long a verified token is trusted before the Hub is asked again, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub identity_ttl: u64,
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
        if args.rate_burst == 0 || args.rate_per_minute == 0 || args.max_body_kib == 0 {
            return Err(bad(
                "--rate-burst, --rate-per-minute and --max-body-kib must be positive".into(),
            ));
        }
        Ok(ServeConfig {
            db,
            listen,
            prefix,
            hub_api_url,
            service_token: env("JUPYTERHUB_API_TOKEN"),
            instructors_group: args.instructors_group,
            rubric: args.rubric,
            max_body_bytes: args.max_body_kib * 1024,
            rate_burst: args.rate_burst,
            rate_per_minute: args.rate_per_minute,
            identity_ttl: Duration::from_secs(args.identity_ttl),
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
