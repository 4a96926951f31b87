//! Argument parsing for the lab's magics: one [`Command`] per magic line, or
//! one clear error naming what was wrong and what is allowed (`--help` never
//! reaches here: the magic registry answers it for every magic).

use mlsys_model::input_error::SteppedRange;
use mlsys_model::labs::data_storage::constants::{
    BATCH, GPUS, MDS_NODES, OSTS, WORKERS, WORKERS_PER_GPU,
};
use mlsys_model::labs::data_storage::{Context, DatasetLayout, IoInputs, MdsInputs, ReadPattern};
use mlsys_model::{Act, Choice, InputError};
use std::str::FromStr;

/// A parsed magic line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Show (None) or set the deployment context.
    Context(Option<Context>),
    /// Show an act's prediction question (None) or lock an answer.
    Predict(Act, Option<Choice>),
    /// Run the Act I analyzer with these inputs.
    Io(IoInputs),
    /// Run the Act II designer with these inputs.
    Mds(MdsInputs),
    /// Show an act's reveal.
    Reveal(Act),
    /// Show an act's reflection question (None) or answer it.
    Reflect(Act, Option<Choice>),
    /// Show an act's governing equations.
    MathPeek(Act),
    /// Summarize the student's progress.
    Status,
}

/// Parses the arguments of magic `name`; `io` and `mds` are the current
/// instrument settings, kept for every flag the line omits. A word starting
/// with `#` begins a comment that runs to the end of the line.
pub fn parse(name: &str, args: &str, io: &IoInputs, mds: &MdsInputs) -> Result<Command, String> {
    let words: Vec<&str> = args
        .split_whitespace()
        .take_while(|w| !w.starts_with('#'))
        .collect();
    match name {
        "context" => match words.as_slice() {
            [] => Ok(Command::Context(None)),
            [ctx] => Ok(Command::Context(Some(value(ctx)?))),
            _ => Err(too_many(name, "[nvme|distributed_fs]", words.len())),
        },
        "predict" => act_and_choice(name, &words).map(|(a, c)| Command::Predict(a, c)),
        "reflect" => act_and_choice(name, &words).map(|(a, c)| Command::Reflect(a, c)),
        "reveal" => act_only(name, &words).map(Command::Reveal),
        "mathpeek" => act_only(name, &words).map(Command::MathPeek),
        "status" if words.is_empty() => Ok(Command::Status),
        "status" => Err(too_many(name, "", words.len())),
        "io" => parse_io(&words, io).map(Command::Io),
        "mds" => parse_mds(&words, mds).map(Command::Mds),
        _ => Err(format!("%{name} is not a magic of this lab")),
    }
}

fn value<T: FromStr<Err = InputError>>(word: &str) -> Result<T, String> {
    word.parse().map_err(|e: InputError| e.to_string())
}

fn too_many(name: &str, usage: &str, got: usize) -> String {
    let got = if got == 1 {
        "1 argument".to_string()
    } else {
        format!("{got} arguments")
    };
    if usage.is_empty() {
        format!("%{name} takes no arguments, got {got}")
    } else {
        format!("%{name} takes {usage}, got {got} (usage: %{name} {usage})")
    }
}

fn act_only(name: &str, words: &[&str]) -> Result<Act, String> {
    match words {
        [act] => value(act),
        [] => Err(format!("%{name} needs an act: %{name} act1|act2")),
        _ => Err(too_many(name, "act1|act2", words.len())),
    }
}

fn act_and_choice(name: &str, words: &[&str]) -> Result<(Act, Option<Choice>), String> {
    match words {
        [act] => Ok((value(act)?, None)),
        [act, choice] => Ok((value(act)?, Some(value(choice)?))),
        [] => Err(format!("%{name} needs an act: %{name} act1|act2 [A-D]")),
        _ => Err(too_many(name, "act1|act2 [A-D]", words.len())),
    }
}

/// `--flag value` and `--flag=value` pairs, each flag at most once, all known.
fn flags<'a>(
    magic: &str,
    words: &[&'a str],
    known: &[&str],
) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        let Some(body) = word.strip_prefix("--") else {
            return Err(format!(
                "%{magic} takes only options ({}), got `{word}`",
                known.join(", ")
            ));
        };
        let (flag, inline) = match body.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (body, None),
        };
        let flag = &word[..2 + flag.len()];
        if !known.contains(&flag) {
            return Err(format!(
                "%{magic}: unknown option {flag}; allowed: {}",
                known.join(", ")
            ));
        }
        if pairs.iter().any(|(f, _)| *f == flag) {
            return Err(format!("%{magic}: {flag} given twice"));
        }
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                match words.get(i) {
                    Some(v) if !v.starts_with("--") => v,
                    _ => return Err(format!("%{magic}: {flag} needs a value")),
                }
            }
        };
        if value.is_empty() {
            return Err(format!("%{magic}: {flag} needs a value"));
        }
        pairs.push((flag, value));
        i += 1;
    }
    Ok(pairs)
}

fn integer(flag: &str, text: &str, range: SteppedRange) -> Result<u32, String> {
    let bad = || InputError::new(flag, text, range.describe()).to_string();
    let n: i64 = text.parse().map_err(|_| bad())?;
    range.check(flag, n).map_err(|e| e.to_string())
}

fn choice<T: FromStr<Err = InputError>>(flag: &str, text: &str) -> Result<T, String> {
    text.parse::<T>().map_err(|mut e: InputError| {
        e.field = flag.to_string();
        e.to_string()
    })
}

/// `%io` options over the current settings.
pub fn parse_io(words: &[&str], current: &IoInputs) -> Result<IoInputs, String> {
    let known = ["--workers", "--batch", "--pattern", "--osts"];
    let mut io = *current;
    for (flag, text) in flags("io", words, &known)? {
        match flag {
            "--workers" => io.workers = integer(flag, text, WORKERS)?,
            "--batch" => io.batch = integer(flag, text, BATCH)?,
            "--osts" => io.osts = integer(flag, text, OSTS)?,
            _ => io.pattern = choice::<ReadPattern>(flag, text)?,
        }
    }
    IoInputs::new(
        io.context,
        io.workers.into(),
        io.batch.into(),
        io.pattern,
        io.osts.into(),
    )
    .map_err(|e| e.to_string())
}

/// `%mds` options over the current settings.
pub fn parse_mds(words: &[&str], current: &MdsInputs) -> Result<MdsInputs, String> {
    let known = ["--gpus", "--workers", "--layout", "--mds"];
    let mut mds = *current;
    for (flag, text) in flags("mds", words, &known)? {
        match flag {
            "--gpus" => mds.gpus = integer(flag, text, GPUS)?,
            "--workers" => mds.workers_per_gpu = integer(flag, text, WORKERS_PER_GPU)?,
            "--mds" => mds.mds = integer(flag, text, MDS_NODES)?,
            _ => mds.layout = choice::<DatasetLayout>(flag, text)?,
        }
    }
    MdsInputs::new(
        mds.context,
        mds.gpus.into(),
        mds.workers_per_gpu.into(),
        mds.layout,
        mds.mds.into(),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(args: &str) -> Result<Command, String> {
        parse("io", args, &IoInputs::default(), &MdsInputs::default())
    }

    fn mds(args: &str) -> Result<Command, String> {
        parse("mds", args, &IoInputs::default(), &MdsInputs::default())
    }

    #[test]
    fn io_accepts_valid_flags_and_keeps_omitted_ones() {
        let Command::Io(i) = io("--workers 4 --pattern=prefetch").unwrap() else {
            panic!()
        };
        assert_eq!(
            (i.workers, i.pattern, i.batch, i.osts),
            (4, ReadPattern::Prefetch, 64, 24)
        );
        let Command::Io(i) = io("").unwrap() else {
            panic!()
        };
        assert_eq!(i, IoInputs::default());
        let Command::Io(i) = io("--batch 512 --osts 48 --workers 16").unwrap() else {
            panic!()
        };
        assert_eq!((i.batch, i.osts, i.workers), (512, 48, 16));
        let Command::Io(i) = io("--workers 2 # try 4 next").unwrap() else {
            panic!()
        };
        assert_eq!(i.workers, 2);
    }

    #[test]
    fn io_rejects_every_kind_of_bad_input() {
        let cases = [
            (
                "--batch 100",
                "--batch must be a multiple of 32 between 32 and 512, got 100",
            ),
            (
                "--batch 0",
                "--batch must be a multiple of 32 between 32 and 512, got 0",
            ),
            (
                "--batch abc",
                "--batch must be a multiple of 32 between 32 and 512, got abc",
            ),
            (
                "--batch -32",
                "--batch must be a multiple of 32 between 32 and 512, got -32",
            ),
            (
                "--workers 17",
                "--workers must be an integer between 1 and 16, got 17",
            ),
            (
                "--workers 2.5",
                "--workers must be an integer between 1 and 16, got 2.5",
            ),
            (
                "--workers 99999999999999999999",
                "--workers must be an integer between 1 and 16, got 99999999999999999999",
            ),
            (
                "--osts 6",
                "--osts must be a multiple of 4 between 4 and 48, got 6",
            ),
            (
                "--pattern zigzag",
                "--pattern must be one of sequential, random, prefetch, got zigzag",
            ),
            (
                "--speed 3",
                "%io: unknown option --speed; allowed: --workers, --batch, --pattern, --osts",
            ),
            ("--workers", "%io: --workers needs a value"),
            ("--workers --batch 64", "%io: --workers needs a value"),
            ("--workers=", "%io: --workers needs a value"),
            ("--workers 2 --workers 3", "%io: --workers given twice"),
            (
                "4",
                "%io takes only options (--workers, --batch, --pattern, --osts), got `4`",
            ),
        ];
        for (args, message) in cases {
            assert_eq!(io(args), Err(message.to_string()), "{args}");
        }
    }

    #[test]
    fn mds_flags_parse_and_reject() {
        let Command::Mds(m) = mds("--gpus 4096 --workers 8 --layout object_store --mds 3").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (m.gpus, m.workers_per_gpu, m.layout, m.mds),
            (4096, 8, DatasetLayout::ObjectStore, 3)
        );
        let cases = [
            (
                "--gpus 100",
                "--gpus must be a multiple of 128 between 128 and 4096, got 100",
            ),
            (
                "--gpus 8192",
                "--gpus must be a multiple of 128 between 128 and 4096, got 8192",
            ),
            (
                "--workers 0",
                "--workers must be an integer between 1 and 16, got 0",
            ),
            ("--mds 9", "--mds must be an integer between 1 and 8, got 9"),
            (
                "--layout files",
                "--layout must be one of shards, individual, object_store, got files",
            ),
            (
                "--osts 4",
                "%mds: unknown option --osts; allowed: --gpus, --workers, --layout, --mds",
            ),
        ];
        for (args, message) in cases {
            assert_eq!(mds(args), Err(message.to_string()), "{args}");
        }
    }

    #[test]
    fn acts_choices_and_contexts() {
        let p = |name, args| parse(name, args, &IoInputs::default(), &MdsInputs::default());
        assert_eq!(p("predict", "act1"), Ok(Command::Predict(Act::Act1, None)));
        assert_eq!(
            p("predict", "act2 b"),
            Ok(Command::Predict(Act::Act2, Some(Choice::B)))
        );
        assert_eq!(
            p("reflect", "act1 D"),
            Ok(Command::Reflect(Act::Act1, Some(Choice::D)))
        );
        assert_eq!(p("reveal", "act2"), Ok(Command::Reveal(Act::Act2)));
        assert_eq!(p("mathpeek", "act1"), Ok(Command::MathPeek(Act::Act1)));
        assert_eq!(p("status", ""), Ok(Command::Status));
        assert_eq!(p("context", ""), Ok(Command::Context(None)));
        assert_eq!(
            p("context", "nvme"),
            Ok(Command::Context(Some(Context::Nvme)))
        );
        let errors = [
            ("predict", "act3", "act must be one of act1, act2, got act3"),
            (
                "predict",
                "act1 E",
                "choice must be one of A, B, C, D, got E",
            ),
            (
                "predict",
                "",
                "%predict needs an act: %predict act1|act2 [A-D]",
            ),
            (
                "predict",
                "act1 B C",
                "%predict takes act1|act2 [A-D], got 3 arguments (usage: %predict act1|act2 [A-D])",
            ),
            ("reveal", "", "%reveal needs an act: %reveal act1|act2"),
            (
                "mathpeek",
                "act1 act2",
                "%mathpeek takes act1|act2, got 2 arguments (usage: %mathpeek act1|act2)",
            ),
            (
                "status",
                "now",
                "%status takes no arguments, got 1 argument",
            ),
            (
                "context",
                "s3",
                "context must be one of nvme, distributed_fs, got s3",
            ),
        ];
        for (name, args, message) in errors {
            assert_eq!(p(name, args), Err(message.to_string()), "%{name} {args}");
        }
    }
}
