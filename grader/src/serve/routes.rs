//! The HTTP API: handlers, authentication and JSON errors.
//! The endpoints are listed in `deploy/openapi.yaml`.

use super::hub::{AuthError, HubAuth, Identity};
use super::rate_limit::RateLimiter;
use super::store::Store;
use crate::db::intake::Stored;
use crate::error::GraderError;
use crate::export::Format;
use axum::body::{Body, HttpBody};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use mlsys_model::receipt::{ReceiptStatus, ServiceReceipt};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

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
}

/// An oversized body is read (and dropped) up to this multiple of the limit, so
/// the answer is a 413 rather than a connection reset at the proxy.
const DRAIN_FACTOR: usize = 16;

/// How long a client may take to send a submission's body.
pub(super) const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

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

/// An error answered as `{"error": code, "message": ...}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    extra: Value,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: json!({}),
        }
    }
}

impl From<GraderError> for ApiError {
    fn from(error: GraderError) -> Self {
        match error {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.code, "message": self.message });
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), self.extra) {
            body.extend(extra);
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("token"));
        }
        response
    }
}

pub(super) type ApiResult<T> = Result<T, ApiError>;

/// The routes under `prefix` (empty for `/`), with the body limit.
pub fn router(app: Arc<App>, prefix: &str, max_body: usize) -> Router {
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
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(app);
    if prefix.is_empty() {
        routes
    } else {
        Router::new().nest(prefix, routes)
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

/// The caller, verified with the Hub and within the rate limit.
pub(super) async fn caller(app: &Arc<App>, headers: &HeaderMap) -> ApiResult<Identity> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            let scheme = scheme.to_ascii_lowercase();
            (scheme == "token" || scheme == "bearer").then(|| token.trim().to_string())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "no_token",
                "send your JupyterHub token: `Authorization: token <JUPYTERHUB_API_TOKEN>`",
            )
        })?;
    let hub_app = app.clone();
    let identity = blocking(move || {
        hub_app.hub.identify(&token).map_err(|e| match e {
            AuthError::Rejected => ApiError::new(
                StatusCode::FORBIDDEN,
                "bad_token",
                "JupyterHub does not accept this token",
            ),
            AuthError::HubUnavailable(why) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "hub_unavailable",
                format!("cannot verify the token with JupyterHub: {why}"),
            ),
        })
    })
    .await?;
    if let Err(wait) = app.limiter.check(&identity.name) {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many requests from {}; retry in {:.1} s",
                identity.name,
                wait.as_secs_f64()
            ),
        );
        error.extra = json!({ "retry_after_seconds": wait.as_secs_f64().ceil() });
        return Err(error);
    }
    Ok(identity)
}

fn instructor(identity: &Identity) -> ApiResult<()> {
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

async fn whoami(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let me = caller(&app, &headers).await?;
    Ok(Json(
        json!({ "name": me.name, "instructor": me.instructor }),
    ))
}

async fn submit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let me = caller(&app, &headers).await?;
    let body = tokio::time::timeout(BODY_TIMEOUT, read_limited(body, app.max_body_bytes))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "slow_body",
                "the submission did not arrive in time",
            )
        })??;
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
            tracing::info!("stored submission {id} from {}", me.name);
            (StatusCode::CREATED, receipt(ReceiptStatus::Stored, id)).into_response()
        }
        Stored::Duplicate(id) => {
            (StatusCode::OK, receipt(ReceiptStatus::Duplicate, id)).into_response()
        }
        Stored::Quarantined(rejection) | Stored::QuarantinedBefore(rejection) => {
            tracing::info!("quarantined a submission from {}: {rejection}", me.name);
            let mut error = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rejected",
                rejection.detail.clone(),
            );
            error.extra = json!({
                "reason": rejection.reason.code(),
                "quarantined": true,
                "sha256": received.sha256,
            });
            error.into_response()
        }
    })
}

async fn student_record(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(student): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller(&app, &headers).await?;
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

async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    instructor(&caller(&app, &headers).await?)?;
    blocking(move || Ok(Json(app.store.list()?))).await
}

async fn score(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    instructor(&caller(&app, &headers).await?)?;
    blocking(move || Ok(Json(json!({ "summary": app.store.score()? })))).await
}

/// `?format=csv|canvas|json`.
#[derive(Debug, Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

async fn export(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    instructor(&caller(&app, &headers).await?)?;
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

async fn stats(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult<Response> {
    instructor(&caller(&app, &headers).await?)?;
    let text = blocking(move || Ok(app.store.stats()?)).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

async fn release(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    caller(&app, &headers).await?;
    Ok(Json(json!({ "released": app.store.released() })))
}

/// `{"released": bool}`.
#[derive(Debug, Deserialize)]
struct Release {
    released: bool,
}

async fn set_release(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Json<Release>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    instructor(&caller(&app, &headers).await?)?;
    let Json(Release { released }) =
        body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.body_text()))?;
    blocking(move || {
        app.store.set_released(released)?;
        Ok(Json(json!({ "released": released })))
    })
    .await
}
