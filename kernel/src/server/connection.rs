//! Reading the connection file Jupyter hands the kernel.

use super::ServerError;
use jupyter_protocol::ConnectionInfo;
use std::path::Path;

/// The only signature scheme the protocol defines.
const HMAC_SHA256: &str = "hmac-sha256";

/// Reads and checks `path`: transport, ports, key, and a supported signature scheme.
pub fn read(path: &Path) -> Result<ConnectionInfo, ServerError> {
    let bad = |reason: String| ServerError::ConnectionFile {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let info: ConnectionInfo = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if !info.key.is_empty() && info.signature_scheme != HMAC_SHA256 {
        return Err(bad(format!(
            "signature_scheme `{}` is not supported (only {HMAC_SHA256})",
            info.signature_scheme
        )));
    }
    Ok(info)
}
