//! Turning an interpreter's [`Output`] into the iopub message that shows it.

use crate::interpreter::Output;
use jupyter_protocol::{
    CommClose, CommId, CommMsg, CommOpen, DisplayData, JupyterMessage, StreamContent, Transient,
    UpdateDisplayData,
};
use serde_json::Value;

/// The iopub message for `output`, parented to the request that produced it
/// (`None` for a flush, which shows nothing).
pub fn to_message(output: Output, parent: &JupyterMessage) -> Option<JupyterMessage> {
    Some(match output {
        Output::Stream { name, text } => StreamContent { name, text }.as_child_of(parent),
        Output::Display {
            data,
            display_id: Some(display_id),
            update: true,
        } => UpdateDisplayData::new(data, &display_id).as_child_of(parent),
        Output::Display {
            data, display_id, ..
        } => DisplayData {
            data,
            metadata: Default::default(),
            transient: display_id.map(|id| Transient {
                display_id: Some(id),
            }),
        }
        .as_child_of(parent),
        Output::CommOpen {
            comm_id,
            target_name,
            data,
            metadata,
        } => CommOpen {
            comm_id: CommId(comm_id),
            target_name,
            data,
            target_module: None,
        }
        .as_child_of(parent)
        .with_metadata(Value::Object(metadata)),
        Output::CommMsg { comm_id, data } => CommMsg {
            comm_id: CommId(comm_id),
            data,
        }
        .as_child_of(parent),
        Output::CommClose { comm_id } => CommClose {
            comm_id: CommId(comm_id),
            data: Default::default(),
        }
        .as_child_of(parent),
        Output::Flush(_) => return None,
    })
}

/// Whether a silent request may still send `output` (comms keep widgets in sync).
pub fn shown_when_silent(output: &Output) -> bool {
    matches!(
        output,
        Output::CommOpen { .. } | Output::CommMsg { .. } | Output::CommClose { .. }
    )
}
