//! The HTTP API: handlers, authentication and JSON errors.
//! The endpoints are listed in `deploy/openapi.yaml`.

use super::hub::{AuthError, Freshness, HubAuth, Identity};
use super::rate_limit::RateLimiter;
use super::store::{NotStored, Store};
use crate::db::intake::Stored;
use crate::encode::printable;
use crate::error::GraderError;
use crate::export::Format;
use axum::body::{Body, HttpBody};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use mlsys_model::receipt::{ReceiptStatus, ServiceReceipt};
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// What every handler shares.
pub struct App {
    /// Token verification.
    pub hub: HubAuth,
    /// Per-user rate limit.
    pub limiter: RateLimiter,
    /// The database.
    pub store: Store,
    /// Largest submission body in bytes.
    pub max_body_bytes: usize,
    /// The longest a request may take, its body included.
    pub request_timeout: Duration,
}

/// An oversized body is read (and dropped) up to this multiple of the limit, so
/// the answer is a 413 rather than a connection reset at the proxy.
const DRAIN_FACTOR: usize = 16;

/// What a client is told to wait before it retries a request the service
/// could not take now (503).
const RETRY_AFTER_SECS: u64 = 2;

/// The whole body, or 413 when it is over `limit` bytes.
pub(super) async fn read_limited(mut body: Body, limit: usize) -> ApiResult<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut total = 0usize;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_body",
                format!("reading the body: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total <= limit {
            bytes.extend_from_slice(&data);
        } else if total > limit * DRAIN_FACTOR {
            break;
        }
    }
    if total > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the submission is over {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// An error answered as `{"error": code, "message": ...}`, with
/// `retry_after_seconds` (and a `Retry-After` header) when worth retrying.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    retry_after: Option<u64>,
    extra: Value,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            extra: json!({}),
        }
    }

    /// The same error, to be retried after `wait` (rounded up to seconds).
    fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        self
    }

    /// 503: the database is kept busy by another writer.
    fn busy() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "the grader database is busy (an instructor is ingesting or scoring): \
             nothing was stored; send it again shortly",
        )
        .retry_after(Duration::from_secs(RETRY_AFTER_SECS))
    }
}

impl From<GraderError> for ApiError {
    fn from(error: GraderError) -> Self {
        match error {
            error if error.is_busy() => ApiError::busy(),
            GraderError::Precondition(m) => ApiError::new(StatusCode::CONFLICT, "precondition", m),
            other => {
                tracing::error!("{other}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    other.to_string(),
                )
            }
        }
    }
}

impl From<NotStored> for ApiError {
    fn from(error: NotStored) -> Self {
        match error {
            NotStored::Busy => ApiError::busy(),
            NotStored::Failed(why) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", why)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.code, "message": self.message });
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), self.extra) {
            body.extend(extra);
        }
        if let Some(secs) = self.retry_after {
            body["retry_after_seconds"] = json!(secs);
        }
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("token"));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub(super) type ApiResult<T> = Result<T, ApiError>;

/// The routes under `prefix` (empty for `/`), with the body limit and the
/// request time limit.
pub fn router(app: Arc<App>, prefix: &str) -> Router {
    let routes = Router::new()
        .route("/health", get(health))
        .route("/api/whoami", get(whoami))
        .route("/api/submissions", post(submit).get(list))
        .route("/api/witness", post(super::witness::witness))
        .route("/api/students/{student}", get(student_record))
        .route("/api/score", post(score))
        .route("/api/export", get(export))
        .route("/api/stats", get(stats))
        .route("/api/release", put(set_release).get(release))
        .layer(DefaultBodyLimit::max(app.max_body_bytes))
        .layer(from_fn_with_state(app.request_timeout, time_limit))
        .with_state(app);
    if prefix.is_empty() {
        routes
    } else {
        Router::new().nest(prefix, routes)
    }
}

/// Answers 408 to a request (its body included) that takes longer than `limit`.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!("the request took longer than {} s", limit.as_secs()),
        )
        .into_response(),
    }
}

/// Runs blocking work (SQLite, the Hub client) off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
}

/// Who sent a request: the token it carries, and the client's address.
pub struct Credentials {
    token: Option<String>,
    client: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Credentials {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                let scheme = scheme.to_ascii_lowercase();
                (scheme == "token" || scheme == "bearer").then(|| token.trim().to_string())
            })
            .filter(|t| !t.is_empty());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(Credentials {
            token,
            client: client_of(peer, &parts.headers),
        })
    }
}

/// The client a request counts against: its peer address, or, when that is
/// a proxy on this host (the Hub's proxy), the address the proxy last added to
/// `X-Forwarded-For` (the one that connected to it; earlier entries are the
/// client's own word).
fn client_of(peer: Option<IpAddr>, headers: &HeaderMap) -> String {
    let forwarded = || {
        let list = headers.get("x-forwarded-for")?.to_str().ok()?;
        let last = list.rsplit(',').next()?.trim();
        last.parse::<IpAddr>().ok()
    };
    match peer {
        Some(ip) if ip.is_loopback() => forwarded().unwrap_or(ip).to_string(),
        Some(ip) => ip.to_string(),
        None => "unknown".to_string(),
    }
}

/// The caller as the Hub says now (`Freshness::Now`) or lately.
async fn identify(
    app: &Arc<App>,
    credentials: &Credentials,
    freshness: Freshness,
) -> ApiResult<Identity> {
    let token = credentials.token.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "no_token",
            "send your JupyterHub token: `Authorization: token <JUPYTERHUB_API_TOKEN>`",
        )
    })?;
    let client = credentials.client.clone();
    let hub_app = app.clone();
    blocking(move || {
        hub_app
            .hub
            .identify(&token, &client, freshness)
            .map_err(|e| match e {
                AuthError::Rejected => ApiError::new(
                    StatusCode::FORBIDDEN,
                    "bad_token",
                    "JupyterHub does not accept this token",
                ),
                AuthError::NoAccess(scope) => ApiError::new(
                    StatusCode::FORBIDDEN,
                    "no_access",
                    format!(
                        "this token may not use the grader service: it lacks the {scope} scope"
                    ),
                ),
                AuthError::TooManyFailures(wait) => ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_failures",
                    format!(
                        "too many refused tokens from {client}; retry in {} s",
                        wait.as_secs_f64().ceil()
                    ),
                )
                .retry_after(wait),
                AuthError::HubUnavailable(why) => ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "hub_unavailable",
                    format!("cannot verify the token with JupyterHub: {why}"),
                )
                .retry_after(Duration::from_secs(RETRY_AFTER_SECS)),
            })
    })
    .await
}

/// Takes one request from the caller's rate budget.
fn within_rate(app: &App, identity: &Identity) -> ApiResult<()> {
    app.limiter.check(&identity.name).map_err(|wait| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many requests from {}; retry in {:.1} s",
                identity.name,
                wait.as_secs_f64()
            ),
        )
        .retry_after(wait)
    })
}

/// The caller, verified with the Hub (or lately) and within the rate limit.
pub(super) async fn caller(app: &Arc<App>, credentials: &Credentials) -> ApiResult<Identity> {
    let identity = identify(app, credentials, Freshness::Cached).await?;
    within_rate(app, &identity)?;
    Ok(identity)
}

/// The caller, an instructor as the Hub says now, within the rate limit.
async fn instructor(app: &Arc<App>, credentials: &Credentials) -> ApiResult<Identity> {
    let identity = identify(app, credentials, Freshness::Now).await?;
    within_rate(app, &identity)?;
    is_instructor(&identity)?;
    Ok(identity)
}

fn is_instructor(identity: &Identity) -> ApiResult<()> {
    if identity.instructor {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_instructor",
            format!("{} is not an instructor", identity.name),
        ))
    }
}

async fn health(State(app): State<Arc<App>>) -> ApiResult<Json<Value>> {
    let count = blocking(move || Ok(app.store.count()?)).await?;
    Ok(Json(json!({
        "status": "ok",
        "service": "mlsys-grader",
        "version": env!("CARGO_PKG_VERSION"),
        "submissions": count,
    })))
}

async fn whoami(State(app): State<Arc<App>>, who: Credentials) -> ApiResult<Json<Value>> {
    let me = caller(&app, &who).await?;
    Ok(Json(
        json!({ "name": me.name, "instructor": me.instructor }),
    ))
}

async fn submit(State(app): State<Arc<App>>, who: Credentials, body: Body) -> ApiResult<Response> {
    let me = caller(&app, &who).await?;
    let body = read_limited(body, app.max_body_bytes).await?;
    let user = me.name.clone();
    let received = blocking(move || Ok(app.store.submit(&user, &body)?)).await?;
    let receipt = |status: ReceiptStatus, id: &str| {
        Json(ServiceReceipt {
            status,
            submission_id: id.to_string(),
            student: me.name.clone(),
            sha256: received.sha256.clone(),
            payload_student: received.payload_student.clone(),
        })
    };
    Ok(match &received.outcome {
        Stored::Ingested(id) => {
            tracing::info!("stored submission {id} from {}", printable(&me.name));
            (StatusCode::CREATED, receipt(ReceiptStatus::Stored, id)).into_response()
        }
        Stored::Duplicate(id) => {
            (StatusCode::OK, receipt(ReceiptStatus::Duplicate, id)).into_response()
        }
        Stored::Quarantined(rejection)
        | Stored::QuarantinedBefore(rejection)
        | Stored::OverQuota(rejection) => {
            let kept = !matches!(received.outcome, Stored::OverQuota(_));
            tracing::info!(
                "{} a submission from {}: {}",
                if kept {
                    "quarantined"
                } else {
                    "refused (quarantine quota full)"
                },
                printable(&me.name),
                printable(&rejection.to_string())
            );
            let mut error = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rejected",
                rejection.detail.clone(),
            );
            error.extra = json!({
                "reason": rejection.reason.code(),
                "quarantined": kept,
                "sha256": received.sha256,
            });
            if !kept {
                error.extra["quota"] =
                    json!("your quarantine is full: this rejected hand-in was not kept");
            }
            error.into_response()
        }
    })
}

async fn student_record(
    State(app): State<Arc<App>>,
    who: Credentials,
    Path(student): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut me = caller(&app, &who).await?;
    if me.name != student || (me.instructor && !app.store.released()) {
        // More than a student's own released record: only an instructor, as
        // the Hub says now.
        me = identify(&app, &who, Freshness::Now).await?;
    }
    if me.name != student && !me.instructor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_yours",
            format!("{} may read only their own record", me.name),
        ));
    }
    blocking(move || {
        let with_scores = me.instructor || app.store.released();
        Ok(Json(app.store.student_record(&student, with_scores)?))
    })
    .await
}

async fn list(State(app): State<Arc<App>>, who: Credentials) -> ApiResult<Json<Value>> {
    instructor(&app, &who).await?;
    blocking(move || Ok(Json(app.store.list()?))).await
}

async fn score(State(app): State<Arc<App>>, who: Credentials) -> ApiResult<Json<Value>> {
    instructor(&app, &who).await?;
    blocking(move || Ok(Json(json!({ "summary": app.store.score()? })))).await
}

/// `?format=csv|canvas|json`.
#[derive(Debug, Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

async fn export(
    State(app): State<Arc<App>>,
    who: Credentials,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    instructor(&app, &who).await?;
    let (format, mime, ext) = match query.format.as_deref().unwrap_or("csv") {
        "csv" => (Format::Csv, "text/csv; charset=utf-8", "csv"),
        "canvas" => (Format::Canvas, "text/csv; charset=utf-8", "canvas.csv"),
        "json" => (Format::Json, "application/json", "json"),
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_format",
                format!("unknown export format {other:?}: use csv, canvas or json"),
            ))
        }
    };
    let (bytes, warning) = blocking(move || Ok(app.store.export(format)?)).await?;
    let mut response = (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"grades.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response();
    if let Some(value) = warning.and_then(|w| HeaderValue::from_str(&w).ok()) {
        response.headers_mut().insert("x-mlsys-warning", value);
    }
    Ok(response)
}

async fn stats(State(app): State<Arc<App>>, who: Credentials) -> ApiResult<Response> {
    instructor(&app, &who).await?;
    let text = blocking(move || Ok(app.store.stats()?)).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

async fn release(State(app): State<Arc<App>>, who: Credentials) -> ApiResult<Json<Value>> {
    caller(&app, &who).await?;
    Ok(Json(json!({ "released": app.store.released() })))
}

/// `{"released": bool}`.
#[derive(Debug, Deserialize)]
struct Release {
    released: bool,
}

async fn set_release(
    State(app): State<Arc<App>>,
    who: Credentials,
    body: Result<Json<Release>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    instructor(&app, &who).await?;
    let Json(Release { released }) =
        body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.body_text()))?;
    blocking(move || {
        app.store.set_released(released)?;
        Ok(Json(json!({ "released": released })))
    })
    .await
}
