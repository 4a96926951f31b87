//! The student's answers, by widget as in the seed: `%predict act1` and
//! `%reflect act1` (either act) show the question with radio buttons and a
//! button that commits the picked option (**Lock** for a prediction, **Answer**
//! for a reflection), on the kernel's widget manager as this lab's.
//!
//! Committing is the same recorded event as the magic form (`%predict act1 B`,
//! which stays for keyboard users and tests), through the one recorder, so
//! the model's rules apply: a prediction locks once, a reflection's first
//! answer counts. Once committed the panel is disabled on the answer; rerun
//! after a kernel restart, it opens that way. A pick the front end sends is
//! checked (a real option, nothing committed yet) and a bad or forged one is
//! refused with a notice and snaps back.

use super::{render, DataStorageLab};
use crate::interpreter::{ExecutionError, Outputs};
use crate::render::html;
use crate::widgets::choice::{Change, ChoiceForm, ChoicePanel};
use crate::widgets::{OwnedWidgets, WidgetId};
use jupyter_protocol::Media;
use mlsys_model::content::{Callout, CalloutKind, Question};
use mlsys_model::labs::data_storage::content;
use mlsys_model::labs::data_storage::session::instrument_magic;
use mlsys_model::record::EventKind;
use mlsys_model::{Act, Choice};
use serde_json::{Map, Value};

/// Which of an act's two questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The prediction, locked before the instrument opens.
    Prediction,
    /// The reflection after the reveal; the first answer counts.
    Reflection,
}

impl Kind {
    /// The magic that shows and answers it.
    pub fn magic(self) -> &'static str {
        match self {
            Kind::Prediction => "%predict",
            Kind::Reflection => "%reflect",
        }
    }

    /// The question of `act`.
    pub fn question(self, act: Act) -> Question {
        match self {
            Kind::Prediction => content::prediction(act),
            Kind::Reflection => content::reflection(act),
        }
    }

    /// The kicker above the prompt: "Act I · your prediction".
    pub fn kicker(self, act: Act) -> String {
        match self {
            Kind::Prediction => format!("{} · your prediction", act.title()),
            Kind::Reflection => format!("{} · reflection", act.title()),
        }
    }

    /// The event that records `choice`.
    fn event(self, act: Act, choice: Choice) -> EventKind {
        match self {
            Kind::Prediction => EventKind::PredictionLocked { act, choice },
            Kind::Reflection => EventKind::ReflectionAnswered { act, choice },
        }
    }

    /// What the panel shows once `choice` is committed: the lock's next step,
    /// or the reflection's feedback.
    pub fn committed(self, act: Act, choice: Choice) -> Callout {
        match self {
            Kind::Prediction => Callout::new(
                CalloutKind::Info,
                format!(
                    "Prediction locked: {choice}. {}",
                    content::prediction(act).option(choice)
                ),
                format!(
                    "Now test your hypothesis with `{magic}` and see what moves the needle. \
                     `{magic} --help` lists the settings.",
                    magic = instrument_magic(act)
                ),
            ),
            Kind::Reflection => content::reflection_feedback(act, choice),
        }
    }

    /// The line under a question no widget can show (a front end without
    /// widgets, or plain text): how to answer by magic.
    pub fn hint(self, act: Act) -> String {
        let magic = self.magic();
        match self {
            Kind::Prediction => format!(
                "Pick an option and click **Lock** (or type `{magic} {act} X` with your letter, \
                 A–D). A locked prediction cannot be changed."
            ),
            Kind::Reflection => format!(
                "Pick an option and click **Answer** (or type `{magic} {act} X` with your \
                 letter, A–D). Your first answer counts."
            ),
        }
    }

    fn buttons(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Prediction => (
                "Lock",
                "Lock your prediction: it cannot be changed later",
                "Locked",
            ),
            Kind::Reflection => ("Answer", "Your first answer counts", "Answered"),
        }
    }
}

/// One open question panel.
struct Open {
    kind: Kind,
    act: Act,
    panel: ChoicePanel,
}

/// The lab's open question panels (one per question: rerunning a cell replaces its panel).
#[derive(Default)]
pub struct AnswerPanels {
    open: Vec<Open>,
}

fn notice(kind: CalloutKind, title: &str, body: &str) -> String {
    html::callout(&Callout::new(kind, title, body))
}

impl DataStorageLab {
    /// The answer of `kind` for `act` recorded so far.
    fn answered(&self, kind: Kind, act: Act) -> Option<Choice> {
        let s = self.session();
        match kind {
            Kind::Prediction => s.predictions.get(&act).copied(),
            Kind::Reflection => s.reflections.get(&act).copied(),
        }
    }

    /// `%predict act` / `%reflect act` without a letter: the question as a
    /// panel (replacing the one this question had), with its static form for
    /// front ends without widgets.
    pub(super) fn open_question(
        &mut self,
        kind: Kind,
        act: Act,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
    ) -> Media {
        if let Some(at) = self
            .answers
            .open
            .iter()
            .position(|o| o.kind == kind && o.act == act)
        {
            self.answers.open.remove(at).panel.close(w, outputs);
        }
        let question = kind.question(act);
        let answered = self.answered(kind, act);
        let (button, tooltip, committed_button) = kind.buttons();
        let panel = ChoicePanel::open(
            ChoiceForm {
                header: render::question_header(kind, act),
                question: &question,
                committed: answered,
                button,
                tooltip,
                committed_button,
                notice: answered
                    .map(|c| html::callout(&kind.committed(act, c)))
                    .unwrap_or_default(),
            },
            w,
            outputs,
        );
        let view = panel.view();
        self.answers.open.push(Open { kind, act, panel });
        let hint = match answered {
            Some(c) => match kind {
                Kind::Prediction => {
                    format!("Locked as {c}. Run `{}` to test it.", instrument_magic(act))
                }
                Kind::Reflection => format!("Answered {c}; the first answer counts."),
            },
            None => kind.hint(act),
        };
        let fallback = render::question(kind, act, &question, answered, &hint);
        let mut content = vec![view];
        content.extend(fallback.content);
        Media::new(content)
    }

    /// The magic form (`%predict act1 B`): records `choice` unless it is the
    /// answer already, shows it on the question's open panels, and returns
    /// what the panel shows.
    pub(super) fn answer(
        &mut self,
        kind: Kind,
        act: Act,
        choice: Choice,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
    ) -> Result<Callout, ExecutionError> {
        match self.answered(kind, act) {
            Some(first) if first != choice => {
                return Err(match kind {
                    Kind::Prediction => ExecutionError::new(
                        "PredictionLocked",
                        format!(
                            "{} prediction is already locked as {first} ({}); it cannot be changed",
                            act.title(),
                            kind.question(act).option(first)
                        ),
                    ),
                    Kind::Reflection => ExecutionError::new(
                        "ReflectionAnswered",
                        format!(
                            "{} reflection was already answered {first}; the first answer counts",
                            act.title()
                        ),
                    ),
                })
            }
            Some(_) => {}
            None => self.recorder.record(kind.event(act, choice))?,
        }
        let committed = kind.committed(act, choice);
        for open in self
            .answers
            .open
            .iter()
            .filter(|o| o.kind == kind && o.act == act)
        {
            open.panel
                .show_committed(choice, html::callout(&committed), w, outputs);
        }
        Ok(committed)
    }

    fn panel_of(&self, id: &WidgetId) -> Option<usize> {
        self.answers.open.iter().position(|o| o.panel.has(id))
    }

    /// Whether `id` is a widget of an open question panel.
    pub(super) fn is_question_widget(&self, id: &WidgetId) -> bool {
        self.panel_of(id).is_some()
    }

    /// A front-end change of a question panel's widget.
    pub(super) fn answer_update(
        &mut self,
        id: &WidgetId,
        state: Map<String, Value>,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
    ) {
        let Some(at) = self.panel_of(id) else {
            return;
        };
        let Open { kind, act, panel } = &self.answers.open[at];
        let (kind, act) = (*kind, *act);
        let refusal = match (panel.read(id, &state), self.answered(kind, act)) {
            (Change::Picked(_), Some(first)) => Some(format!(
                "{} {} is {first} already; it cannot be changed",
                act.title(),
                match kind {
                    Kind::Prediction => "prediction",
                    Kind::Reflection => "reflection's answer",
                }
            )),
            (Change::Picked(_), None) => None,
            (Change::Refused(reason), _) => Some(reason),
        };
        let panel = &self.answers.open[at].panel;
        match refusal {
            None => {
                w.accept(id, state, outputs);
                panel.set_notice(String::new(), w, outputs);
            }
            Some(reason) => {
                tracing::info!(comm_id = id.0, reason, "question change refused");
                w.reject(id, state.keys(), outputs);
                panel.set_notice(
                    notice(CalloutKind::Warn, "Change refused", &format!("{reason}.")),
                    w,
                    outputs,
                );
            }
        }
    }

    /// A custom message to a question panel's widget: a click of its button
    /// commits the picked option.
    pub(super) fn answer_event(
        &mut self,
        id: &WidgetId,
        content: &Value,
        w: &mut OwnedWidgets,
        outputs: &Outputs,
    ) {
        let Some(at) = self.panel_of(id) else {
            return;
        };
        let Open { kind, act, panel } = &self.answers.open[at];
        let (kind, act, panel) = (*kind, *act, panel.clone());
        if *id != panel.button || content.get("event").and_then(Value::as_str) != Some("click") {
            tracing::info!(comm_id = id.0, %content, "question panel event ignored");
            return;
        }
        let Some(choice) = panel.picked(w) else {
            let (button, ..) = kind.buttons();
            panel.set_notice(
                notice(
                    CalloutKind::Warn,
                    "Pick an option first",
                    &format!("Choose one of A–D above, then click **{button}**."),
                ),
                w,
                outputs,
            );
            return;
        };
        match self.answer(kind, act, choice, w, outputs) {
            Ok(_) => {}
            Err(error) => {
                if let Some(first) = self.answered(kind, act) {
                    panel.show_committed(first, String::new(), w, outputs);
                }
                panel.set_notice(
                    notice(
                        CalloutKind::Warn,
                        "Not recorded",
                        &format!("{}.", error.evalue),
                    ),
                    w,
                    outputs,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_question_says_how_to_answer_without_widgets() {
        for act in Act::ALL {
            assert!(Kind::Prediction
                .hint(act)
                .contains(&format!("%predict {act} X")));
            assert!(Kind::Reflection.hint(act).contains("first answer counts"));
            assert_eq!(
                Kind::Reflection.committed(act, Choice::B),
                content::reflection_feedback(act, Choice::B)
            );
        }
        let locked = Kind::Prediction.committed(Act::Act2, Choice::C);
        assert!(locked
            .title
            .starts_with("Prediction locked: C. Storage will always"));
        assert!(locked.body.contains("`%mds`"));
    }
}
