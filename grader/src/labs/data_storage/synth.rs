//! The lab's synthetic students, and the recorder's shortcuts for its magics.

use crate::synth::Rng;
use chrono::{DateTime, Utc};
use mlsys_model::labs::data_storage::constants::{
    BATCH, GPUS, MDS_NODES, OSTS, WORKERS, WORKERS_PER_GPU,
};
use mlsys_model::labs::data_storage::design::ANSWER;
use mlsys_model::labs::data_storage::{
    Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern, Session,
};
use mlsys_model::record::{EventKind, Submission};
use mlsys_model::rules::SessionError;
use mlsys_model::Act;

/// A recorder of this lab's sessions.
pub type Recorder = crate::synth::Recorder<Session>;

impl Recorder {
    /// `%context`.
    pub fn context(&mut self, context: Context) -> Result<&mut Self, SessionError> {
        self.record(EventKind::ContextSet {
            context: context.id().to_string(),
        })
    }

    /// `%io` with these inputs.
    pub fn io(&mut self, inputs: IoInputs) -> Result<&mut Self, SessionError> {
        self.run(Act::Act1, serde_json::to_value(inputs).unwrap_or_default())
    }

    /// `%mds` with these inputs.
    pub fn mds(&mut self, inputs: MdsInputs) -> Result<&mut Self, SessionError> {
        self.run(Act::Act2, serde_json::to_value(inputs).unwrap_or_default())
    }
}

/// One synthetic session of about `events` events, starting at `start`.
pub fn synthetic_session(
    student: &str,
    start: DateTime<Utc>,
    events: usize,
    rng: &mut Rng,
) -> Submission {
    let mut r = Recorder::new(student, start);
    let runs = events.saturating_sub(9).max(2);
    let context = if rng.chance(85) {
        Context::DistributedFs
    } else {
        Context::Nvme
    };
    let _ = r.context(context);
    for (act, share) in [(Act::Act1, runs / 2), (Act::Act2, runs - runs / 2)] {
        let _ = r.predict(act, rng.choice(ANSWER, 55));
        for _ in 0..share {
            let _ = match act {
                Act::Act1 => r.io(random_io(context, rng)),
                Act::Act2 => r.mds(random_mds(context, rng)),
            };
        }
        let _ = r.reveal(act);
        if rng.chance(90) {
            let _ = r.reflect(act, rng.choice(ANSWER, 70));
        }
    }
    if rng.chance(85) {
        let _ = r.save_design();
    }
    r.submit()
}

fn random_io(context: Context, rng: &mut Rng) -> IoInputs {
    let pattern = rng.pick(&ReadPattern::ALL);
    IoInputs::new(
        context,
        rng.stepped(WORKERS),
        rng.stepped(BATCH),
        pattern,
        rng.stepped(OSTS),
    )
    .unwrap_or_default()
}

fn random_mds(context: Context, rng: &mut Rng) -> MdsInputs {
    let layout = rng.pick(&DatasetLayout::ALL);
    MdsInputs::new(
        context,
        rng.stepped(GPUS),
        rng.stepped(WORKERS_PER_GPU),
        layout,
        rng.stepped(MDS_NODES),
    )
    .unwrap_or_default()
}
