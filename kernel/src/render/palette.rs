//! The labs' semantic colours, chosen to read on light and dark backgrounds.

/// A semantic colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Healthy, correct, within bounds.
    Green,
    /// Degraded, a caution.
    Orange,
    /// Starved, saturated, wrong.
    Red,
    /// Neutral figures.
    Blue,
    /// The student's own marks (current point, locked answer).
    Indigo,
    /// Not yet known.
    Grey,
}

/// The colour of `tone`.
pub fn color(tone: Tone) -> &'static str {
    match tone {
        Tone::Green => "#16a34a",
        Tone::Orange => "#d97706",
        Tone::Red => "#dc2626",
        Tone::Blue => "#2563eb",
        Tone::Indigo => "#6366f1",
        Tone::Grey => "#94a3b8",
    }
}

/// A translucent background tint of `tone`.
pub fn tint(tone: Tone) -> &'static str {
    match tone {
        Tone::Green => "rgba(22,163,74,0.10)",
        Tone::Orange => "rgba(217,119,6,0.10)",
        Tone::Red => "rgba(220,38,38,0.10)",
        Tone::Blue => "rgba(37,99,235,0.10)",
        Tone::Indigo => "rgba(99,102,241,0.10)",
        Tone::Grey => "rgba(148,163,184,0.10)",
    }
}
