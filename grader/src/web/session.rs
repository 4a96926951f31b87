//! Browser sessions: after the Hub's OAuth login the service keeps the user's
//! Hub token on its side and gives the browser only a random session id, in a
//! cookie that is HttpOnly, `SameSite=Lax`, `Secure` when the page came over
//! https, and scoped to the service's prefix. Each session has its own CSRF
//! token for the forms of its pages. Logins in progress are kept by their
//! OAuth `state` for ten minutes.
//!
//! Sessions live in memory: a restarted service sends its users through the
//! Hub's login again (which, while their Hub session lasts, asks nothing).

use crate::encode::sha256_hex;
use axum::http::{header, HeaderMap};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "mlsys-grader-session";
/// The cookie holding a login's OAuth `state` until the Hub sends it back.
pub const STATE_COOKIE: &str = "mlsys-grader-oauth-state";
/// How long a login may take at the Hub.
pub const STATE_TTL: Duration = Duration::from_secs(600);
/// Beyond this many sessions or logins in progress, expired ones are swept
/// and, if still full, the oldest is dropped.
const MAX_ENTRIES: usize = 20_000;

/// A logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The user's Hub token, from the OAuth code exchange (never sent to the browser).
    pub token: String,
    /// The token every form of this session carries.
    pub csrf: String,
    expires: Instant,
}

/// A login in progress.
#[derive(Debug, Clone)]
struct Login {
    next: String,
    expires: Instant,
}

/// Every session and every login in progress.
pub struct Sessions {
    /// By the SHA-256 of the session id, so the map holds no cookie value.
    sessions: Mutex<HashMap<String, Session>>,
    logins: Mutex<HashMap<String, Login>>,
    ttl: Duration,
}

impl Sessions {
    /// Sessions that last `ttl`.
    pub fn new(ttl: Duration) -> Sessions {
        Sessions {
            sessions: Mutex::new(HashMap::new()),
            logins: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// A new session for the holder of `token`: its id (the cookie's value).
    pub fn create(&self, token: String) -> String {
        let id = random_token();
        let session = Session {
            token,
            csrf: random_token(),
            expires: Instant::now() + self.ttl,
        };
        insert_bounded(&self.sessions, sha256_hex(id.as_bytes()), session, |s| {
            s.expires
        });
        id
    }

    /// The live session with id `id`.
    pub fn get(&self, id: &str) -> Option<Session> {
        let key = sha256_hex(id.as_bytes());
        let mut sessions = lock(&self.sessions);
        match sessions.get(&key) {
            Some(session) if session.expires > Instant::now() => Some(session.clone()),
            Some(_) => {
                sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends the session `id`.
    pub fn remove(&self, id: &str) {
        lock(&self.sessions).remove(&sha256_hex(id.as_bytes()));
    }

    /// Starts a login that returns to `next`: its `state`.
    pub fn begin_login(&self, next: String) -> String {
        let state = random_token();
        let login = Login {
            next,
            expires: Instant::now() + STATE_TTL,
        };
        insert_bounded(&self.logins, state.clone(), login, |l| l.expires);
        state
    }

    /// Ends the login `state` (once): where it returns to, if it is live.
    pub fn finish_login(&self, state: &str) -> Option<String> {
        let login = lock(&self.logins).remove(state)?;
        (login.expires > Instant::now()).then_some(login.next)
    }
}

/// Inserts into a map kept under [`MAX_ENTRIES`]: expired entries go first,
/// then the one expiring soonest.
fn insert_bounded<T>(
    map: &Mutex<HashMap<String, T>>,
    key: String,
    value: T,
    expires: impl Fn(&T) -> Instant,
) {
    let mut map = lock(map);
    if map.len() >= MAX_ENTRIES {
        let now = Instant::now();
        map.retain(|_, v| expires(v) > now);
        if map.len() >= MAX_ENTRIES {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, v)| expires(v))
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
    }
    map.insert(key, value);
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// 32 random bytes from the operating system, as hex.
///
/// # Panics
/// If the operating system has no randomness to give (then nothing is safe).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system gives random bytes");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `a` and `b` are equal, in time that depends on their lengths only.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_string())
}

/// How a cookie is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieScope<'a> {
    /// The path it is sent to (the service's prefix).
    pub path: &'a str,
    /// Only over https.
    pub secure: bool,
}

/// A `Set-Cookie` value: HttpOnly, `SameSite=Lax`, scoped to `scope`;
/// `max_age` `Some(0)` deletes it, `None` lasts the browser session.
pub fn set_cookie(name: &str, value: &str, scope: CookieScope, max_age: Option<u64>) -> String {
    let mut cookie = format!(
        "{name}={value}; Path={}; HttpOnly; SameSite=Lax",
        scope.path
    );
    if scope.secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

/// Whether the browser reached the service over https (as the Hub's proxy
/// says in `X-Forwarded-Proto`).
pub fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_session_is_found_by_its_id_until_removed_and_never_by_another() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let id = sessions.create("hub-token".into());
        assert_eq!(id.len(), 64);
        let session = sessions.get(&id).unwrap();
        assert_eq!(session.token, "hub-token");
        assert_eq!(session.csrf.len(), 64);
        assert_ne!(session.csrf, id);
        assert!(sessions.get(&random_token()).is_none());
        let other = sessions.create("hub-token".into());
        assert_ne!(sessions.get(&other).unwrap().csrf, session.csrf);
        sessions.remove(&id);
        assert!(sessions.get(&id).is_none());
        assert!(sessions.get(&other).is_some());
    }

    #[test]
    fn an_expired_session_is_gone() {
        let sessions = Sessions::new(Duration::ZERO);
        let id = sessions.create("t".into());
        assert!(sessions.get(&id).is_none());
    }

    #[test]
    fn a_login_state_is_good_once() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let state = sessions.begin_login("/services/g/me".into());
        assert_eq!(sessions.finish_login("forged"), None);
        assert_eq!(
            sessions.finish_login(&state).as_deref(),
            Some("/services/g/me")
        );
        assert_eq!(sessions.finish_login(&state), None);
    }

    #[test]
    fn cookies_are_read_by_exact_name_and_set_http_only_in_the_prefix() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("x-mlsys-grader-session=no; a=b"),
        );
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("mlsys-grader-session=abc"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "zzz"), None);
        let scope = CookieScope {
            path: "/services/mlsys-grader/",
            secure: true,
        };
        assert_eq!(
            set_cookie(SESSION_COOKIE, "abc", scope, None),
            "mlsys-grader-session=abc; Path=/services/mlsys-grader/; HttpOnly; SameSite=Lax; Secure"
        );
        let plain = CookieScope {
            secure: false,
            ..scope
        };
        assert!(set_cookie(STATE_COOKIE, "", plain, Some(0)).ends_with("SameSite=Lax; Max-Age=0"));
    }

    #[test]
    fn equal_tokens_compare_equal_and_others_do_not() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", "a"));
    }

    #[test]
    fn https_is_what_the_proxy_says() {
        let mut headers = HeaderMap::new();
        assert!(!over_https(&headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(over_https(&headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("http,https"));
        assert!(!over_https(&headers));
    }
}
