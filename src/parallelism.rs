//! The core: the `KUMO_AVAILABLE_PARALLELISM` override, else Rust std's answer.
//!
//! Pure Rust with no Lua types and no probes. Every call asks again: cgroup limits and
//! affinity masks change while a process runs, and the override may be changed by the
//! host. The one thing kept is the process's first answer and when it came, for explain()'s
//! `changed-since-first-call`: pools are sized from it.

use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::error::{Error, OverrideProblem};
use crate::variable::{OVERRIDE_MAX, OVERRIDE_VAR};

/// How many threads this process should use.
///
/// `KUMO_AVAILABLE_PARALLELISM`, when set to a valid count, is the answer. Unset, empty or
/// only whitespace, it is ignored and the answer is [`std::thread::available_parallelism`],
/// which honours cgroup v1 and v2 CPU quotas (the tightest ancestor, floored, at least 1)
/// and the calling thread's CPU affinity mask. The process's first answer is kept, with
/// when it came, for explain()'s `changed-since-first-call`.
///
/// # Errors
/// [`Error::InvalidOverride`] when the variable holds anything but a whole number from 1 to
/// 4294967295; [`Error::Detection`] when std cannot count the CPUs.
///
/// # Examples
/// ```
/// let threads = kumo_parallelism::available_parallelism()?;
/// assert!(threads.get() >= 1);
/// # Ok::<(), kumo_parallelism::Error>(())
/// ```
pub fn available_parallelism() -> Result<NonZeroUsize, Error> {
    let count = match read_override()? {
        Some(count) => count,
        None => std_parallelism()?,
    };
    note_answer(count);
    Ok(count)
}

/// The first answer this process got from [`available_parallelism`] or `explain()`, and
/// when: what pools sized at start were sized for.
static FIRST_ANSWER: OnceLock<(NonZeroUsize, Instant)> = OnceLock::new();

/// Keeps `count` as the process's first answer, where there is none yet: one atomic load
/// once it is kept.
pub(crate) fn note_answer(count: NonZeroUsize) {
    FIRST_ANSWER.get_or_init(|| (count, Instant::now()));
}

/// The process's first answer and how long ago it came, if it has had one.
pub(crate) fn first_answer() -> Option<(NonZeroUsize, Duration)> {
    FIRST_ANSWER.get().map(|(count, taken)| (*count, taken.elapsed()))
}

/// Std's answer, with its failure turned into [`Error::Detection`].
pub(crate) fn std_parallelism() -> Result<NonZeroUsize, Error> {
    std::thread::available_parallelism().map_err(Error::Detection)
}

/// The override as set in the environment: `Ok(None)` when it does not apply.
pub(crate) fn read_override() -> Result<Option<NonZeroUsize>, Error> {
    match std::env::var_os(OVERRIDE_VAR) {
        None => Ok(None),
        Some(raw) => parse_override(raw.as_encoded_bytes()),
    }
}

/// Parses an override value given as the bytes of the environment variable.
///
/// `Ok(None)` for empty or all-whitespace input (the override does not apply),
/// `Ok(Some(n))` for a valid count, otherwise [`Error::InvalidOverride`].
///
/// # Examples
/// ```
/// use kumo_parallelism::parse_override;
/// assert_eq!(parse_override(b" +8\n").unwrap().unwrap().get(), 8);
/// assert!(parse_override(b"  ").unwrap().is_none());
/// assert!(parse_override(b"0").is_err());
/// ```
pub fn parse_override(raw: &[u8]) -> Result<Option<NonZeroUsize>, Error> {
    let trimmed = raw.trim_ascii();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let invalid = |reason| Error::InvalidOverride { value: quote(raw), reason };
    let digits = trimmed.strip_prefix(b"+").unwrap_or(trimmed);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid(classify_non_number(trimmed)));
    }
    // Accumulate with a ceiling instead of parsing into a type that may overflow:
    // leading zeros are harmless, and any digit run longer than u64 is simply too large.
    let mut value: u64 = 0;
    for digit in digits {
        value = value * 10 + u64::from(digit - b'0');
        if value > OVERRIDE_MAX {
            return Err(invalid(OverrideProblem::TooLarge));
        }
    }
    let count = usize::try_from(value)
        .ok()
        .and_then(NonZeroUsize::new)
        .ok_or_else(|| invalid(OverrideProblem::Zero))?;
    Ok(Some(count))
}

/// Names the mistake in a value that is not a plain run of digits.
fn classify_non_number(trimmed: &[u8]) -> OverrideProblem {
    if std::str::from_utf8(trimmed).is_err() {
        OverrideProblem::NotUtf8
    } else if trimmed.starts_with(b"-") {
        OverrideProblem::Negative
    } else {
        OverrideProblem::NotANumber
    }
}

/// Quotes a value for a message: printable text as is, everything else escaped,
/// so that a stray control byte or a broken encoding is visible in the error.
pub(crate) fn quote(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) => format!("\"{}\"", text.escape_debug()),
        Err(_) => format!("\"{}\"", raw.escape_ascii()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(raw: &str) -> Option<usize> {
        parse_override(raw.as_bytes())
            .unwrap_or_else(|e| panic!("{raw:?} rejected: {e}"))
            .map(NonZeroUsize::get)
    }

    fn rejected(raw: &[u8]) -> (OverrideProblem, String) {
        match parse_override(raw) {
            Err(err @ Error::InvalidOverride { reason, .. }) => (reason, err.to_string()),
            other => panic!("{:?} accepted as {other:?}", raw.escape_ascii().to_string()),
        }
    }

    #[test]
    fn unset_like_values_do_not_apply() {
        for raw in ["", " ", "\t\n ", "\r\n"] {
            assert_eq!(accepted(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn valid_forms() {
        let cases = [
            ("1", 1),
            ("7", 7),
            ("+7", 7),
            (" 4", 4),
            ("4 ", 4),
            ("\t+16\n", 16),
            ("007", 7),
            ("4294967295", 4_294_967_295),
            ("+0004294967295", 4_294_967_295),
        ];
        for (raw, want) in cases {
            assert_eq!(accepted(raw), Some(want), "{raw:?}");
        }
    }

    #[test]
    fn invalid_classes() {
        use OverrideProblem::*;
        let cases: &[(&[u8], OverrideProblem)] = &[
            (b"0", Zero),
            (b"+0", Zero),
            (b"000", Zero),
            (b"-1", Negative),
            (b"-0", Negative),
            (b"1.5", NotANumber),
            (b"4.0", NotANumber),
            (b"1e3", NotANumber),
            (b"0x10", NotANumber),
            (b"4 4", NotANumber),
            (b"++4", NotANumber),
            (b"+", NotANumber),
            (b"+-4", NotANumber),
            (b"abc", NotANumber),
            ("\u{0663}".as_bytes(), NotANumber), // ARABIC-INDIC DIGIT THREE
            ("\u{FF14}".as_bytes(), NotANumber), // FULLWIDTH DIGIT FOUR
            (b"4294967296", TooLarge),
            (b"99999999999999999999999999", TooLarge),
            (b"\xff", NotUtf8),
            (b"4\xfe", NotUtf8),
        ];
        for (raw, want) in cases {
            let (got, message) = rejected(raw);
            assert_eq!(got, *want, "{message}");
            assert!(message.contains(OVERRIDE_VAR), "{message}");
            assert!(message.contains("from 1 to 4294967295"), "{message}");
        }
    }

    #[test]
    fn messages_quote_the_value_with_escapes() {
        assert!(rejected(b"abc").1.contains("\"abc\""));
        assert!(rejected(b"\xff7").1.contains("\"\\xff7\""));
        assert!(rejected(b"a\x01b").1.contains("\"a\\u{1}b\""));
        // the quote shows the value as set, surrounding whitespace included
        assert!(rejected(b" 1.5 ").1.contains("\" 1.5 \""));
    }
}
