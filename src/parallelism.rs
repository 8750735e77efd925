//! The core: the `KUMO_AVAILABLE_PARALLELISM` override, else Rust std's answer.
//!
//! Pure Rust with no Lua types. Nothing is cached: cgroup limits and affinity masks
//! change while a process runs, and the override may be changed by the host.

use std::cell::OnceCell;
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
/// and the calling thread's CPU affinity mask. The first answer the process and each thread
/// gets is kept, with when it was taken and under which mask, for explain()'s
/// `changed-since-first-call`.
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

/// A first answer: the count, when it was taken, and the calling thread's CPUs then (the
/// mask's compact list; `None` where it cannot be read), so that a later answer is held
/// against one taken under the same mask: answers are per thread.
#[derive(Debug, Clone)]
pub(crate) struct First {
    pub(crate) count: NonZeroUsize,
    pub(crate) taken: Instant,
    pub(crate) cpus: Option<String>,
}

/// The first answer this process got from [`available_parallelism`] or `explain()`: what
/// pools sized at start were sized for.
static FIRST_ANSWER: OnceLock<First> = OnceLock::new();

thread_local! {
    /// The first answer this thread got.
    static THREAD_FIRST_ANSWER: OnceCell<First> = const { OnceCell::new() };
}

/// Keeps `count` as the process's and this thread's first answer, where there is none yet:
/// an atomic load and a thread-local look once both are kept. The mask is read once per
/// thread, at its first answer.
pub(crate) fn note_answer(count: NonZeroUsize) {
    note_answer_with(count, calling_thread_cpus);
}

/// [`note_answer`] with the calling thread's CPUs at hand.
pub(crate) fn note_answer_with(count: NonZeroUsize, cpus: impl FnOnce() -> Option<String>) {
    let thread_noted = THREAD_FIRST_ANSWER.with(|first| first.get().is_some());
    if thread_noted && FIRST_ANSWER.get().is_some() {
        return;
    }
    let first = First { count, taken: Instant::now(), cpus: cpus() };
    FIRST_ANSWER.get_or_init(|| first.clone());
    THREAD_FIRST_ANSWER.with(|cell| {
        let _ = cell.set(first);
    });
}

/// The first answer to hold the calling thread's answer against, given its CPUs now
/// (`cpus`) and those of the process's main thread (`process_cpus`): the process's first
/// answer when it was taken under the same mask, else this thread's own when it was;
/// else, on a thread whose mask is the process's (the mask changed for the whole process:
/// a CPU taken offline, `taskset -p`), the process's first; else none, for a thread that
/// pinned itself since (thread-pinned says so), whose smaller answer is no change.
pub(crate) fn first_answer_for(
    cpus: Option<&str>,
    process_cpus: Option<&str>,
) -> Option<(First, Duration)> {
    let thread = THREAD_FIRST_ANSWER.with(|first| first.get().cloned());
    let chosen = comparable_first(FIRST_ANSWER.get(), thread.as_ref(), cpus, process_cpus)?.clone();
    let age = chosen.taken.elapsed();
    Some((chosen, age))
}

/// The rule of [`first_answer_for`], given the process's and the thread's first answers.
fn comparable_first<'a>(
    process: Option<&'a First>,
    thread: Option<&'a First>,
    cpus: Option<&str>,
    process_cpus: Option<&str>,
) -> Option<&'a First> {
    let same = |first: &First| first.cpus.as_deref() == cpus;
    match (process, thread) {
        (Some(process), _) if same(process) => Some(process),
        (_, Some(thread)) if same(thread) => Some(thread),
        (Some(process), _) if cpus == process_cpus => Some(process),
        _ => None,
    }
}

/// The calling thread's CPUs as a compact list, for a first answer.
fn calling_thread_cpus() -> Option<String> {
    #[cfg(target_os = "linux")]
    {
        crate::probes::affinity().ok().map(|mask| mask.cpus)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
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

    fn first(count: usize, cpus: &str) -> First {
        First {
            count: NonZeroUsize::new(count).unwrap(),
            taken: Instant::now(),
            cpus: Some(cpus.into()),
        }
    }

    #[test]
    fn a_later_answer_is_held_against_one_taken_under_the_same_mask() {
        let main = first(2, "0-1");
        // a worker that pinned itself before its first answer: its own, not the main one's
        let pinned = first(1, "0");
        let chosen = comparable_first(Some(&main), Some(&pinned), Some("0"), Some("0-1"));
        assert_eq!(chosen.map(|f| f.count.get()), Some(1));
        // an unpinned worker whose first answer came later: the process's, pools were sized
        let worker = first(1, "0-1");
        let chosen = comparable_first(Some(&main), Some(&worker), Some("0-1"), Some("0-1"));
        assert_eq!(chosen.map(|f| f.count.get()), Some(2));
        // a thread that pinned itself after its first answer: nothing to compare
        let before_pinning = first(2, "0-1");
        assert!(
            comparable_first(Some(&main), Some(&before_pinning), Some("0"), Some("0-1")).is_none()
        );
        // the mask changed for the whole process (a CPU offline): the process's first
        let before_offline = first(2, "0-7");
        let chosen = comparable_first(Some(&before_offline), None, Some("0-6"), Some("0-6"));
        assert_eq!(chosen.map(|f| f.count.get()), Some(2));
    }

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
