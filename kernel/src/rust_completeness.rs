//! Whether a Rust cell is ready to run (`is_complete_request`), so a console
//! continues a line such as `fn f() {` instead of running it.
//!
//! The cell is lexed with rustc's own lexer (`ra-ap-rustc_lexer`, published
//! from rust-lang/rust; not rust-analyzer): a cell is `incomplete` while a
//! bracket, a string (raw strings included), a char literal at the end, or a
//! block comment (nested ones included) is open; `invalid` when a closing
//! bracket matches no open one; otherwise `complete`. Whether the code
//! compiles is the compiler's business, not this check's.

use jupyter_protocol::{IsCompleteReply, IsCompleteReplyStatus};
use ra_ap_rustc_lexer::{
    tokenize, validate_raw_str, FrontmatterAllowed, LiteralKind, RawStrError, TokenKind,
};

/// The indent a console puts on a continued line, per open bracket.
const INDENT: &str = "    ";

/// What a lexed cell leaves open at its end, or that it cannot be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// Nothing: the cell is complete.
    Nothing,
    /// `depth` brackets, or a literal or comment, are still open.
    Incomplete { depth: usize },
    /// A closing bracket matches no open bracket.
    Invalid,
}

fn closes(open: &TokenKind, close: &TokenKind) -> bool {
    matches!(
        (open, close),
        (TokenKind::OpenParen, TokenKind::CloseParen)
            | (TokenKind::OpenBrace, TokenKind::CloseBrace)
            | (TokenKind::OpenBracket, TokenKind::CloseBracket)
    )
}

/// Whether a literal that the lexer flags as broken is open (`Some(true)`:
/// it runs to the end of the cell), broken for good (`Some(false)`), or fine.
fn open_literal(kind: &LiteralKind, text: &str, at_end: bool) -> Option<bool> {
    let raw = |n_hashes: &Option<u8>, prefix_len: u32| match n_hashes {
        Some(_) => None,
        None => Some(matches!(
            validate_raw_str(text, prefix_len),
            Err(RawStrError::NoTerminator { .. })
        )),
    };
    match kind {
        LiteralKind::Str { terminated: false }
        | LiteralKind::ByteStr { terminated: false }
        | LiteralKind::CStr { terminated: false } => Some(true),
        // A char literal cannot span lines: open only if the cell ends in it.
        LiteralKind::Char { terminated: false } | LiteralKind::Byte { terminated: false } => {
            Some(at_end)
        }
        LiteralKind::RawStr { n_hashes } => raw(n_hashes, 1),
        LiteralKind::RawByteStr { n_hashes } | LiteralKind::RawCStr { n_hashes } => {
            raw(n_hashes, 2)
        }
        _ => None,
    }
}

fn scan(code: &str) -> Open {
    let mut brackets: Vec<TokenKind> = Vec::new();
    let mut at = 0;
    for token in tokenize(code, FrontmatterAllowed::No) {
        let text = &code[at..at + token.len as usize];
        at += token.len as usize;
        let at_end = at == code.len();
        match token.kind {
            TokenKind::BlockComment {
                terminated: false, ..
            } => {
                return Open::Incomplete {
                    depth: brackets.len(),
                }
            }
            TokenKind::Literal { kind, .. } => match open_literal(&kind, text, at_end) {
                Some(true) => {
                    return Open::Incomplete {
                        depth: brackets.len(),
                    }
                }
                Some(false) => return Open::Invalid,
                None => {}
            },
            TokenKind::OpenParen | TokenKind::OpenBrace | TokenKind::OpenBracket => {
                brackets.push(token.kind)
            }
            TokenKind::CloseParen | TokenKind::CloseBrace | TokenKind::CloseBracket => {
                match brackets.pop() {
                    Some(open) if closes(&open, &token.kind) => {}
                    _ => return Open::Invalid,
                }
            }
            _ => {}
        }
    }
    match brackets.len() {
        0 => Open::Nothing,
        depth => Open::Incomplete { depth },
    }
}

/// The `is_complete_reply` for a Rust cell: with an indent of four spaces per
/// open bracket when it is incomplete.
pub fn is_complete(code: &str) -> IsCompleteReply {
    match scan(code) {
        Open::Nothing => IsCompleteReply::new(IsCompleteReplyStatus::Complete, String::new()),
        Open::Incomplete { depth } => {
            IsCompleteReply::new(IsCompleteReplyStatus::Incomplete, INDENT.repeat(depth))
        }
        Open::Invalid => IsCompleteReply::new(IsCompleteReplyStatus::Invalid, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: &str) -> IsCompleteReplyStatus {
        is_complete(code).status
    }

    #[test]
    fn open_brackets_strings_chars_and_comments_are_incomplete() {
        for code in [
            "fn f() {",
            "let v = vec![1, 2,",
            "let t = (1,\n 2",
            "let s = \"an open string",
            "let s = \"line one\nline two",
            "let r = r#\"raw with a \" inside",
            "let r = r##\"ends with \"# only",
            "let b = br\"raw bytes",
            "let b = b\"bytes",
            "let c = '",
            "let c = '\\",
            "/* a comment",
            "/* outer /* inner */ still open",
            "fn f() { /* open",
        ] {
            assert_eq!(status(code), IsCompleteReplyStatus::Incomplete, "{code:?}");
        }
        assert_eq!(is_complete("fn f() {\n    if x {").indent, "        ");
    }

    #[test]
    fn closed_code_is_complete_whatever_it_contains() {
        for code in [
            "fn f() {}",
            "let x = 1;\nx + 1",
            "let s = \"a } inside a string\";",
            "let r = r#\"raw \" with ) brackets\"#;",
            "let c = '}';",
            "let q = '\\'';",
            "fn g<'a>(x: &'a str) -> &'a str { x }",
            "// a line comment with an open { bracket",
            "/* outer /* inner */ closed */ 42",
            ":dep serde = \"1\"",
            "",
        ] {
            assert_eq!(status(code), IsCompleteReplyStatus::Complete, "{code:?}");
        }
    }

    #[test]
    fn a_closing_bracket_without_its_opening_one_is_invalid() {
        for code in [
            "fn f() }",
            "let t = (1, 2];",
            ")",
            "let c = '\\n\nlet d = 1;",
            "let r = r#~\"no\"#;",
        ] {
            assert_eq!(status(code), IsCompleteReplyStatus::Invalid, "{code:?}");
        }
    }
}
