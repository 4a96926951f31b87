//! `POST /api/witness`: the witness. A kernel on the Hub posts every lab event
//! as it records it (a [`WitnessBatch`], with the server's Hub token); each is
//! stored under the authenticated Hub user with the service's receive time
//! (see [`crate::db::witness`]), and the answer is a [`WitnessReceipt`].

use super::routes::{blocking, caller, read_limited, ApiError, ApiResult, App, Credentials};
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use mlsys_model::receipt::{WitnessBatch, WitnessReceipt};
use std::sync::Arc;

/// Stores a batch of the caller's lab events.
pub async fn witness(
    State(app): State<Arc<App>>,
    who: Credentials,
    body: Body,
) -> ApiResult<Json<WitnessReceipt>> {
    let me = caller(&app, &who).await?;
    let body = read_limited(body, app.max_body_bytes).await?;
    let batch: WitnessBatch = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!("not a batch of lab events: {e}"),
        )
    })?;
    if let Some(event) = batch.events.iter().find(|e| !app.store.grades(&e.lab)) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!(
                "event {} is of lab {:?}, which this service does not grade",
                event.id, event.lab
            ),
        ));
    }
    let user = me.name.clone();
    let receipt = blocking(move || Ok(app.store.witness(&user, &batch.events)?)).await?;
    if receipt.stored + receipt.conflicts > 0 {
        tracing::info!(
            "witnessed {} events of {} ({} conflicting)",
            receipt.stored + receipt.conflicts,
            me.name,
            receipt.conflicts
        );
    }
    Ok(Json(receipt))
}
