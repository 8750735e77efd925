//! The core: the `KUMO_AVAILABLE_PARALLELISM` override, else Rust std's answer.
//!
//! Pure Rust with no Lua types and no probes. Every call asks again: cgroup limits and
//! affinity masks change while a process runs, and the override may be changed by the
//! host. The one thing kept is each thread's first answer, the process's first, and what
//! each was taken under, for explain()'s `changed-since-first-call`: pools are sized from
//! them. Answers are per thread (std counts the calling thread's mask), so a later answer is
//! held against the same thread's first, or against the process's only where that was
//! taken under the same mask.

use std::cell::OnceCell;
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::time::Instant;

use crate::error::{Error, OverrideProblem};
use crate::variable::{OVERRIDE_MAX, OVERRIDE_VAR};

/// How many threads this process should use.
///
/// `KUMO_AVAILABLE_PARALLELISM`, when set to a valid count, is the answer. Unset, empty or
/// only whitespace, it is ignored and the answer is [`std::thread::available_parallelism`],
/// which honours cgroup v1 and v2 CPU quotas (the tightest ancestor, floored, at least 1)
/// and the calling thread's CPU affinity mask. The calling thread's first answer and the
/// process's are kept, with when they came, for explain()'s `changed-since-first-call`.
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
    let (count, by_override) = match read_override()? {
        Some(count) => (count, true),
        None => (std_parallelism()?, false),
    };
    note_answer(count, by_override);
    Ok(count)
}

/// Words in std's 1024-CPU affinity set (glibc's `cpu_set_t`).
const STD_MASK_WORDS: usize = 1024 / libc::c_ulong::BITS as usize;

/// The calling thread's affinity mask as std reads it, with std's 1024-CPU set.
pub(crate) type StdMask = [libc::c_ulong; STD_MASK_WORDS];

/// What an answer was taken under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basis {
    /// The override gave it: no mask counts.
    Override,
    /// std gave it, counting this mask; `None` where the kernel refused std's set (std then
    /// counts the online CPUs).
    Detection(Option<StdMask>),
}

/// An answer, when it was taken, and under what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) count: NonZeroUsize,
    pub(crate) taken: Instant,
    pub(crate) basis: Basis,
}

thread_local! {
    /// The calling thread's first answer. A plain value with nothing to drop: no exit hook is
    /// registered for the thread, so a host can still unload the module.
    static THREAD_FIRST: OnceCell<Answer> = const { OnceCell::new() };
}

/// The process's first answer: what pools sized at start were sized for.
static PROCESS_FIRST: OnceLock<Answer> = OnceLock::new();

/// Keeps `count` as the calling thread's first answer, and the process's, where there is none
/// yet. Once the thread has one, this is a thread-local read; the first answer from detection
/// on each thread reads that thread's mask once (one `sched_getaffinity`); the override path
/// makes no system call.
pub(crate) fn note_answer(count: NonZeroUsize, by_override: bool) {
    THREAD_FIRST.with(|first| {
        first.get_or_init(|| {
            let basis = if by_override { Basis::Override } else { Basis::Detection(std_mask()) };
            let answer = Answer { count, taken: Instant::now(), basis };
            PROCESS_FIRST.get_or_init(|| answer);
            answer
        });
    });
}

/// The calling thread's first answer and the process's, where they have been taken.
pub(crate) fn first_answers() -> (Option<Answer>, Option<Answer>) {
    (THREAD_FIRST.with(|first| first.get().copied()), PROCESS_FIRST.get().copied())
}

/// The calling thread's mask as std reads it; `None` where the kernel refuses std's set or
/// denies the call.
#[cfg(target_os = "linux")]
fn std_mask() -> Option<StdMask> {
    let mut words: StdMask = [0; STD_MASK_WORDS];
    // SAFETY: the buffer holds size_of_val(&words) writable bytes.
    let rc = unsafe {
        libc::sched_getaffinity(0, std::mem::size_of_val(&words), words.as_mut_ptr().cast())
    };
    (rc == 0).then_some(words)
}

/// Elsewhere std counts no mask of this kind.
#[cfg(not(target_os = "linux"))]
fn std_mask() -> Option<StdMask> {
    None
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

/// The most of a value's escaped text a message quotes, in bytes: a longer value is cut
/// there, with its length named, so that a file pasted into the variable makes no message of
/// its size.
pub(crate) const QUOTE_MAX: usize = 100;

/// Quotes a value for a message: printable text as is, everything else escaped, so that a
/// stray control byte or a broken encoding is visible in the error. A value whose escaped
/// text is longer than [`QUOTE_MAX`] bytes is cut, on a whole character or escape: its start,
/// quoted, then `… (N bytes)`.
pub(crate) fn quote(raw: &[u8]) -> String {
    let mut quoted = String::from("\"");
    // each character (or byte, where the value is not UTF-8) escaped in turn, so that a long
    // value is escaped only as far as it is quoted
    let mut push = |piece: &dyn std::fmt::Display| {
        let before = quoted.len();
        // writing to a String cannot fail
        let _ = write!(quoted, "{piece}");
        let fits = quoted.len() - 1 <= QUOTE_MAX;
        if !fits {
            quoted.truncate(before);
        }
        fits
    };
    let whole = match std::str::from_utf8(raw) {
        // as `str::escape_debug` escapes: a grapheme extender (a combining mark) only where it
        // starts the text, so a character after the first is escaped as it is after one
        Ok(text) => text.chars().enumerate().all(|(index, c)| match index {
            0 => push(&c.escape_debug()),
            _ => push(&format!("a{c}").escape_debug().skip(1).collect::<String>()),
        }),
        Err(_) => raw.iter().all(|b| push(&b.escape_ascii())),
    };
    if whole {
        quoted.push('"');
    } else {
        let _ = write!(quoted, "\"… ({} bytes)", raw.len());
    }
    quoted
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

    #[test]
    fn a_long_value_is_cut_with_its_length_named() {
        let long = "x".repeat(100_000);
        assert_eq!(quote(long.as_bytes()), format!("\"{}\"… (100000 bytes)", &long[..QUOTE_MAX]));
        let message = rejected(long.as_bytes()).1;
        assert!(message.len() <= 512, "{} bytes", message.len());
        // escapes are never cut in two, and their count is of the escaped text
        let controls = vec![1u8; 30_000];
        let cut = quote(&controls);
        assert_eq!(cut, format!("\"{}\"… (30000 bytes)", "\\u{1}".repeat(QUOTE_MAX / 5)));
        // a short value is quoted whole, and the longest that fits too
        let fits = "y".repeat(QUOTE_MAX);
        assert_eq!(quote(fits.as_bytes()), format!("\"{fits}\""));
        assert!(quote(format!("{fits}y").as_bytes()).ends_with("… (101 bytes)"));
        // a combining mark is escaped where it starts the value only, as str::escape_debug does
        assert_eq!(quote("Ჽ\u{fe20}".as_bytes()), format!("\"{}\"", "Ჽ\u{fe20}".escape_debug()));
        assert_eq!(quote("\u{fe20}a".as_bytes()), "\"\\u{fe20}a\"");
        // a value that is not UTF-8 is cut on whole \\xNN escapes
        let bytes = vec![0xffu8; 1000];
        assert_eq!(quote(&bytes), format!("\"{}\"… (1000 bytes)", "\\xff".repeat(QUOTE_MAX / 4)));
    }
}
