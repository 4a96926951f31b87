//! The lab-neutral shapes of a lab's words: multiple-choice questions and
//! titled callouts. Texts are plain text or Markdown; renderers add the looks.

use crate::choice::Choice;

/// A multiple-choice question: its prompt and options A–D.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The question itself.
    pub prompt: String,
    /// The options, A first.
    pub options: [String; 4],
}

impl Question {
    /// The text of option `choice` (without its letter).
    pub fn option(&self, choice: Choice) -> &str {
        &self.options[choice.index()]
    }
}

/// How a callout should look: the seed's `mo.callout` kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalloutKind {
    /// Neutral information.
    Info,
    /// A good outcome (a correct answer, a sound design).
    Success,
    /// A caution (a wrong answer, a design near its limit).
    Warn,
    /// A failure (a saturated design).
    Danger,
}

/// A titled Markdown message, shown as a coloured callout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callout {
    /// How it looks.
    pub kind: CalloutKind,
    /// The bold first line.
    pub title: String,
    /// The Markdown body (may be empty).
    pub body: String,
}

impl Callout {
    /// A callout of `kind` with `title` and `body`.
    pub fn new(kind: CalloutKind, title: impl Into<String>, body: impl Into<String>) -> Self {
        Callout {
            kind,
            title: title.into(),
            body: body.into(),
        }
    }

    /// The callout as plain text: title, blank line, body.
    pub fn to_text(&self) -> String {
        if self.body.is_empty() {
            self.title.clone()
        } else {
            format!("{}\n\n{}", self.title, self.body)
        }
    }
}
