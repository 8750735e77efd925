//! Properties of the KUMO_AVAILABLE_PARALLELISM parser, over arbitrary input.

use kumo_parallelism::{parse_override, Error, OVERRIDE_MAX};
use proptest::prelude::*;

/// The documented grammar, written independently of the parser: ASCII whitespace around
/// an optional '+' and one or more ASCII digits whose value is 1..=4294967295.
fn documented_value(raw: &[u8]) -> Option<u64> {
    let trimmed = raw.trim_ascii();
    let digits = trimmed.strip_prefix(b"+").unwrap_or(trimmed);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let significant = std::str::from_utf8(digits).ok()?.trim_start_matches('0');
    if significant.len() > 10 {
        return None;
    }
    significant.parse::<u64>().ok().filter(|n| (1..=OVERRIDE_MAX).contains(n))
}

/// Bytes biased towards the interesting alphabet: digits, signs, whitespace, dots, letters,
/// and any byte at all (including invalid UTF-8).
fn override_bytes() -> impl Strategy<Value = Vec<u8>> {
    let interesting = prop_oneof![
        4 => prop::sample::select(b"0123456789".to_vec()),
        1 => prop::sample::select(b"+- \t\n\r.eExX".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec(interesting, 0..24)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// Every input parses into the documented range, is "not set", or is an error that
    /// names the variable; the parser agrees with the grammar and never panics.
    #[test]
    fn every_input_is_in_range_unset_or_a_named_error(raw in override_bytes()) {
        match parse_override(&raw) {
            Ok(None) => prop_assert!(raw.trim_ascii().is_empty()),
            Ok(Some(count)) => {
                let count = count.get() as u64;
                prop_assert!((1..=OVERRIDE_MAX).contains(&count));
                prop_assert_eq!(Some(count), documented_value(&raw));
            }
            Err(err) => {
                let is_override_error = matches!(err, Error::InvalidOverride { .. });
                prop_assert!(is_override_error, "{:?}", err);
                let message = err.to_string();
                prop_assert!(message.contains("KUMO_AVAILABLE_PARALLELISM"), "{}", message);
                prop_assert_eq!(documented_value(&raw), None);
                prop_assert!(!raw.trim_ascii().is_empty());
            }
        }
    }

    /// Any valid number, written in any accepted form, reads back as itself.
    #[test]
    fn valid_numbers_round_trip(
        count in 1..=OVERRIDE_MAX,
        plus in any::<bool>(),
        zeros in 0usize..4,
        before in "[ \t\n\r]{0,3}",
        after in "[ \t\n\r]{0,3}",
    ) {
        let written = format!("{before}{}{}{count}{after}", if plus { "+" } else { "" }, "0".repeat(zeros));
        let parsed = parse_override(written.as_bytes()).map(|c| c.map(|c| c.get() as u64));
        prop_assert_eq!(parsed.ok(), Some(Some(count)), "{:?}", written);
    }

    /// Arbitrary strings of any characters never panic and errors always quote the value.
    #[test]
    fn errors_quote_the_value(text in "\\PC{1,16}") {
        if let Err(err) = parse_override(text.as_bytes()) {
            let quoted = format!("\"{}\"", text.escape_debug());
            prop_assert!(err.to_string().contains(&quoted), "{} lacks {}", err, quoted);
        }
    }
}
