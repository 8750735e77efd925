//! The errors a caller can act on: a bad override, or std unable to count CPUs.
//!
//! Each message starts with what was wrong and quotes the offending value, so that
//! a person reading a Lua traceback knows what to change without reading code.

use crate::variable::{OVERRIDE_MAX, OVERRIDE_VAR};

/// Why [`available_parallelism`](crate::available_parallelism) could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `KUMO_AVAILABLE_PARALLELISM` is set to something that is not a count of threads.
    #[error(
        "invalid {OVERRIDE_VAR} {value}: {reason}; expected a whole number from 1 to {OVERRIDE_MAX} \
         (an optional leading '+' and surrounding whitespace are allowed), or unset it"
    )]
    InvalidOverride {
        /// The value as set, quoted, with bytes that are not printable escaped.
        value: String,
        /// What is wrong with it.
        reason: OverrideProblem,
    },
    /// `std::thread::available_parallelism()` itself failed; there is no silent default.
    #[error(
        "std::thread::available_parallelism() failed: {0}; set {OVERRIDE_VAR} to choose a number"
    )]
    Detection(#[source] std::io::Error),
}

/// The class of mistake in an override value; its `Display` is the reason in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OverrideProblem {
    /// The value is zero; zero threads cannot run anything.
    #[error("zero is not allowed")]
    Zero,
    /// The value starts with a minus sign.
    #[error("negative numbers are not allowed")]
    Negative,
    /// The digits are fine but the number exceeds [`OVERRIDE_MAX`].
    #[error("the number is too large")]
    TooLarge,
    /// The bytes of the value are not UTF-8.
    #[error("the value is not valid UTF-8")]
    NotUtf8,
    /// Anything else: fractions, exponents, hex, inner spaces, non-ASCII digits, words.
    #[error("not a whole number")]
    NotANumber,
}
