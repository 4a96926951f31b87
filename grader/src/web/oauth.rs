//! The service as a Hub OAuth client: a browser without a session is sent to
//! the Hub's authorize endpoint; the Hub logs the user in and sends the browser
//! back to the callback with a code, which the service exchanges (with its own
//! token as the client secret) for a Hub token of that user.

use serde::Deserialize;
use std::time::Duration;

/// How the service talks OAuth with the Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// `service-<name>`.
    pub client_id: String,
    /// The service's token (the client secret).
    pub client_secret: Option<String>,
    /// Where the Hub sends the browser back (a path under the service's prefix).
    pub redirect_uri: String,
    /// The Hub's authorize endpoint as the browser reaches it.
    pub authorize_url: String,
    /// The Hub's token endpoint as the service reaches it.
    pub token_url: String,
}

/// Why a code was not exchanged for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeError {
    /// The Hub refused the code (used, expired, or not for this client).
    Refused(String),
    /// The Hub could not be asked.
    Unavailable(String),
}

impl OAuthClient {
    /// Where to send a browser to log in, carrying `state`.
    pub fn authorize_location(&self, state: &str) -> String {
        format!(
            "{}?{}",
            self.authorize_url,
            form_encode(&[
                ("client_id", &self.client_id),
                ("redirect_uri", &self.redirect_uri),
                ("response_type", "code"),
                ("state", state),
            ])
        )
    }

    /// The form the service posts to the token endpoint for `code`.
    pub fn token_request(&self, code: &str) -> String {
        form_encode(&[
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.as_deref().unwrap_or("")),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
        ])
    }

    /// Exchanges `code` for the user's Hub token (blocking).
    pub fn exchange(&self, code: &str, timeout: Duration) -> Result<String, ExchangeError> {
        /// The part of the token endpoint's answer the service reads.
        #[derive(Deserialize)]
        struct TokenReply {
            access_token: String,
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        let unavailable =
            |e: String| ExchangeError::Unavailable(format!("{}: {e}", self.token_url));
        let mut response = agent
            .post(&self.token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(self.token_request(code))
            .map_err(|e| unavailable(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .map_err(|e| unavailable(e.to_string()))?;
        match status {
            200 => serde_json::from_str::<TokenReply>(&body)
                .map(|reply| reply.access_token)
                .map_err(|e| unavailable(format!("not a token reply: {e}"))),
            400..=499 => Err(ExchangeError::Refused(format!("HTTP {status}"))),
            _ => Err(unavailable(format!("HTTP {status}"))),
        }
    }
}

/// `key=value&...`, each percent-encoded for a query or form body.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters.
pub fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether `next` is a place under `prefix` to return to after login (a path
/// of this service, not another site: no scheme, no `//`, no backslash).
pub fn safe_next(next: &str, prefix: &str) -> bool {
    next.starts_with(&format!("{prefix}/"))
        && !next.contains("//")
        && !next.contains('\\')
        && !next.contains("/../")
        && next.chars().all(|c| !c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> OAuthClient {
        OAuthClient {
            client_id: "service-mlsys-grader".into(),
            client_secret: Some("s3cret".into()),
            redirect_uri: "/services/mlsys-grader/oauth_callback".into(),
            authorize_url: "/hub/api/oauth2/authorize".into(),
            token_url: "http://127.0.0.1:8081/hub/api/oauth2/token".into(),
        }
    }

    #[test]
    fn the_authorize_redirect_names_the_client_callback_and_state() {
        assert_eq!(
            client().authorize_location("ab12"),
            "/hub/api/oauth2/authorize?client_id=service-mlsys-grader\
             &redirect_uri=%2Fservices%2Fmlsys-grader%2Foauth_callback&response_type=code&state=ab12"
        );
    }

    #[test]
    fn the_token_request_is_a_form_with_the_client_secret_and_code() {
        assert_eq!(
            client().token_request("c&d=e"),
            "client_id=service-mlsys-grader&client_secret=s3cret&grant_type=authorization_code\
             &code=c%26d%3De&redirect_uri=%2Fservices%2Fmlsys-grader%2Foauth_callback"
        );
    }

    #[test]
    fn a_hub_that_cannot_be_reached_is_unavailable_not_a_refusal() {
        let mut refused = client();
        // Nothing listens on port 9 (discard) of loopback.
        refused.token_url = "http://127.0.0.1:9/hub/api/oauth2/token".into();
        assert!(matches!(
            refused.exchange("x", Duration::from_secs(2)),
            Err(ExchangeError::Unavailable(_))
        ));
    }

    #[test]
    fn only_paths_of_this_service_are_returned_to() {
        let prefix = "/services/mlsys-grader";
        assert!(safe_next("/services/mlsys-grader/instructor", prefix));
        assert!(!safe_next("/services/mlsys-grader", prefix));
        assert!(!safe_next("//evil.example/services/mlsys-grader/", prefix));
        assert!(!safe_next("https://evil.example/", prefix));
        assert!(!safe_next("/services/mlsys-grader//evil.example", prefix));
        assert!(!safe_next("/services/mlsys-grader/../../hub/admin", prefix));
        assert!(!safe_next("/services/mlsys-grader-other/x", prefix));
    }
}
