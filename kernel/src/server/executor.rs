//! The executor thread: the one thread that owns the [`Interpreter`].
//!
//! Requests arrive as jobs over a channel and run one at a time. Side outputs
//! go through a long-lived [`Outputs`] channel to a pump thread that parents
//! each one to the job's request and queues it on iopub. After a job, the
//! executor sends a barrier through that same channel and waits for the pump
//! to reach it, so every output of a request is queued on iopub before the
//! request's result is handed back — ordering without sleeps. Outputs sent by
//! threads the interpreter keeps between requests are parented to the latest
//! request.

use super::iopub::IoPub;
use super::outputs::{shown_when_silent, to_message};
use crate::interpreter::{Interpreter, Output, Outputs};
use jupyter_protocol::JupyterMessage;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

type Deliver = Box<dyn FnOnce() + Send>;
type Job = Box<dyn FnOnce(&mut dyn Interpreter, &Outputs) -> Deliver + Send>;

/// Where the pump sends the current request's outputs.
struct Route {
    parent: Option<JupyterMessage>,
    silent: bool,
}

struct Envelope {
    parent: JupyterMessage,
    silent: bool,
    job: Job,
}

/// A handle to the executor thread. Cheap to clone.
#[derive(Clone)]
pub struct Executor {
    jobs: mpsc::Sender<Envelope>,
}

impl Executor {
    /// Moves `interpreter` onto its own thread, publishing its outputs on `iopub`.
    pub fn spawn(interpreter: Box<dyn Interpreter>, iopub: IoPub) -> std::io::Result<Executor> {
        let (jobs, queue) = mpsc::channel::<Envelope>();
        let (outputs, output_queue) = mpsc::channel::<Output>();
        let route = Arc::new(Mutex::new(Route {
            parent: None,
            silent: false,
        }));
        let pump_route = Arc::clone(&route);
        std::thread::Builder::new()
            .name("output-pump".into())
            .spawn(move || pump(output_queue, &pump_route, &iopub))?;
        std::thread::Builder::new()
            .name("executor".into())
            .spawn(move || execute_jobs(interpreter, queue, Outputs::new(outputs), &route))?;
        Ok(Executor { jobs })
    }

    /// Runs `work` on the interpreter, its outputs parented to `parent` (and
    /// dropped if `silent`, comms excepted). Resolves once all its outputs are
    /// queued on iopub; `None` if the work panicked.
    pub async fn run<T, F>(&self, parent: &JupyterMessage, silent: bool, work: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Interpreter, &Outputs) -> T + Send + 'static,
    {
        let (result, receive) = oneshot::channel();
        let job: Job = Box::new(move |interpreter, outputs| {
            let value = work(interpreter, outputs);
            Box::new(move || {
                let _ = result.send(value);
            })
        });
        let envelope = Envelope {
            parent: parent.clone(),
            silent,
            job,
        };
        if self.jobs.send(envelope).is_err() {
            tracing::error!("the executor thread has stopped");
            return None;
        }
        receive.await.ok()
    }
}

fn execute_jobs(
    mut interpreter: Box<dyn Interpreter>,
    queue: mpsc::Receiver<Envelope>,
    outputs: Outputs,
    route: &Mutex<Route>,
) {
    for Envelope {
        parent,
        silent,
        job,
    } in queue
    {
        *route.lock().unwrap_or_else(PoisonError::into_inner) = Route {
            parent: Some(parent),
            silent,
        };
        let deliver = catch_unwind(AssertUnwindSafe(|| job(interpreter.as_mut(), &outputs)));
        if !outputs.flush() {
            tracing::error!("the output pump has stopped");
        }
        match deliver {
            Ok(deliver) => deliver(),
            Err(_) => tracing::error!("the interpreter panicked; the request gets an error reply"),
        }
    }
}

fn pump(queue: mpsc::Receiver<Output>, route: &Mutex<Route>, iopub: &IoPub) {
    for output in queue {
        if let Output::Flush(ack) = output {
            let _ = ack.send(());
            continue;
        }
        let route = route.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(parent) = &route.parent else {
            continue;
        };
        if route.silent && !shown_when_silent(&output) {
            continue;
        }
        if let Some(message) = to_message(output, parent) {
            iopub.publish(message);
        }
    }
}
