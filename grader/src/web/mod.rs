//! The service's web pages: an instructor's course overview with charts, each
//! student's detail and the grading actions, and a student's own hand-ins.
//! Browsers log in through the Hub ([`oauth`]) and keep a session
//! ([`session`]); every state-changing form is checked against cross-site
//! requests ([`csrf`]). The same rules as the API: instructors (the
//! instructors' group, Hub admins, asked of the Hub at every page) see the
//! course; a student sees only their own record.

pub mod assets;
pub mod csrf;
pub mod layout;
pub mod oauth;
pub mod roster;
pub mod session;
pub mod svg;

mod course;
mod instructor;
mod login;
mod student;

use crate::serve::config::ServeConfig;
use crate::serve::hub::{AuthError, Freshness, Identity};
use crate::serve::routes::{client_of, App};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use oauth::OAuthClient;
use roster::Roster;
use session::{CookieScope, Session, Sessions, SESSION_COOKIE};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What the pages share.
pub struct Web {
    /// Browser sessions and logins in progress.
    pub sessions: Sessions,
    /// The service as the Hub's OAuth client.
    pub oauth: OAuthClient,
    /// The Hub's user list.
    pub roster: Roster,
    /// The service's route prefix (empty for `/`).
    pub prefix: String,
    /// The Hub's base URL as browsers reach it (ends with `/`).
    pub hub_base: String,
    /// The course notebook's path in students' homes, if one is delivered.
    pub notebook: Option<String>,
    /// How long to wait for the Hub.
    pub hub_timeout: Duration,
    /// The path the service's cookies are sent to (the prefix, with `/`).
    cookie_path: String,
}

impl Web {
    /// The pages' settings from the service's.
    pub fn new(config: &ServeConfig) -> Web {
        Web {
            sessions: Sessions::new(config.session_ttl),
            oauth: OAuthClient {
                client_id: config.oauth_client_id.clone(),
                client_secret: config.service_token.clone(),
                redirect_uri: format!("{}/oauth_callback", config.prefix),
                authorize_url: format!("{}api/oauth2/authorize", config.hub_public_url),
                token_url: format!("{}/oauth2/token", config.hub_api_url),
            },
            roster: Roster::new(
                &config.hub_api_url,
                config.service_token.clone(),
                &config.instructors_group,
                config.hub_timeout,
            ),
            prefix: config.prefix.clone(),
            hub_base: config.hub_base_url.clone(),
            notebook: config.notebook.clone(),
            hub_timeout: config.hub_timeout,
            cookie_path: format!("{}/", config.prefix),
        }
    }

    /// The path of the page `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// How this service's cookies are scoped for a request with `headers`:
    /// the prefix, and `Secure` when the browser came over https.
    pub fn cookie_scope(&self, headers: &HeaderMap) -> CookieScope<'_> {
        CookieScope {
            path: &self.cookie_path,
            secure: session::over_https(headers),
        }
    }
}

/// The pages' routes (the prefix is added by the caller).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(home))
        .route("/oauth_callback", get(login::callback))
        .route("/logout", post(login::logout))
        .route("/me", get(student::page_handler))
        .route("/instructor", get(instructor::overview))
        .route("/instructor/students/{student}", get(instructor::student))
        .route(
            "/instructor/submissions/{id}/raw",
            get(instructor::raw_submission),
        )
        .route(
            "/instructor/quarantine/{sha256}/raw",
            get(instructor::raw_quarantined),
        )
        .route("/instructor/score", post(instructor::score))
        .route("/instructor/release", post(instructor::release))
        .route("/instructor/export/{format}", get(instructor::export))
        .route("/assets/{file}", get(assets::serve))
}

/// A browser request: its method, headers, the path it asked for (under the
/// prefix, without it) and its client.
pub struct Browser {
    method: Method,
    headers: HeaderMap,
    path: String,
    client: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Browser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(Browser {
            method: parts.method.clone(),
            client: client_of(peer, &parts.headers),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string()),
            headers: parts.headers.clone(),
        })
    }
}

/// Who a page is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any logged-in user (their own record).
    Anyone,
    /// An instructor, as the Hub says now.
    Instructor,
}

/// A logged-in user looking at a page.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Who, as the Hub says.
    pub identity: Identity,
    /// The session's form token.
    pub csrf: String,
}

/// The viewer of a page, or the response to give instead: a login redirect
/// (for a GET without a live session), 403, 429 or 503.
pub async fn viewer(app: &Arc<App>, browser: &Browser, need: Need) -> Result<Viewer, Response> {
    let Some((id, session)) = session_of(app, &browser.headers) else {
        return Err(if need_login_redirect(browser) {
            login::redirect(app, browser)
        } else {
            error_page(
                app,
                StatusCode::FORBIDDEN,
                "Not logged in",
                "Your session has ended. Open the page again to log in through the Hub.",
            )
        });
    };
    let freshness = match need {
        Need::Anyone => Freshness::Cached,
        Need::Instructor => Freshness::Now,
    };
    let (token, client) = (session.token.clone(), browser.client.clone());
    let hub_app = app.clone();
    let identity = blocking(move || hub_app.hub.identify(&token, &client, freshness)).await;
    let identity = match identity {
        Ok(Ok(identity)) => identity,
        Ok(Err(AuthError::Rejected | AuthError::NoAccess(_))) => {
            app.web.sessions.remove(&id);
            return Err(login::redirect(app, browser));
        }
        Ok(Err(AuthError::TooManyFailures(_))) => {
            return Err(error_page(
                app,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                "Too many refused logins from your address: wait a minute and reload.",
            ))
        }
        Err(_) => {
            return Err(error_page(
                app,
                StatusCode::INTERNAL_SERVER_ERROR,
                "The login check stopped",
                "The grader could not check your login. Reload the page.",
            ))
        }
        Ok(Err(AuthError::HubUnavailable(why))) => {
            tracing::warn!("a page could not ask the Hub: {why}");
            return Err(error_page(
                app,
                StatusCode::SERVICE_UNAVAILABLE,
                "The Hub does not answer",
                "The grader could not check your login with JupyterHub. Reload in a moment.",
            ));
        }
    };
    if app.limiter.check(&identity.name).is_err() {
        return Err(error_page(
            app,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            "You are loading pages faster than the grader allows: wait a few seconds and reload.",
        ));
    }
    if need == Need::Instructor && !identity.instructor {
        return Err(error_page(
            app,
            StatusCode::FORBIDDEN,
            "Instructors only",
            &format!(
                "{} is not an instructor of this course. Your own hand-ins are on your page.",
                identity.name
            ),
        ));
    }
    Ok(Viewer {
        identity,
        csrf: session.csrf,
    })
}

/// A GET is sent to log in; anything else is refused.
fn need_login_redirect(browser: &Browser) -> bool {
    browser.method == Method::GET || browser.method == Method::HEAD
}

/// The request's live session and its id.
fn session_of(app: &App, headers: &HeaderMap) -> Option<(String, Session)> {
    let id = session::cookie(headers, SESSION_COOKIE)?;
    let session = app.web.sessions.get(&id)?;
    Some((id, session))
}

/// Runs blocking work (the Hub client, SQLite) off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    tokio::task::spawn_blocking(work).await
}

/// An HTML page with the headers every page carries: no caching, no framing,
/// no scripts or styles but the service's own.
pub fn html_response(status: StatusCode, markup: maud::Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(headers);
    response
}

/// The security headers of every page and download.
pub fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// An error page with `title` and `message`.
pub fn error_page(app: &App, status: StatusCode, title: &str, message: &str) -> Response {
    html_response(status, layout::message_page(&app.web, None, title, message))
}

/// `/`: an instructor's overview, or a student's own page.
pub async fn home(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    browser: Browser,
) -> Response {
    match viewer(&app, &browser, Need::Anyone).await {
        Ok(viewer) if viewer.identity.instructor => {
            Redirect::to(&app.web.url("/instructor")).into_response()
        }
        Ok(_) => Redirect::to(&app.web.url("/me")).into_response(),
        Err(response) => response,
    }
}
