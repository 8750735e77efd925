//! How the report and the findings write numbers for people: CPUs with their unit, and
//! ages to the second. Below both, so that neither imports the other for them.

use std::fmt;
use std::time::Duration;

/// "1 CPU", "1.5 CPUs", "4 CPUs".
pub(crate) fn cpus(count: impl fmt::Display) -> String {
    let count = count.to_string();
    if count == "1" {
        "1 CPU".to_owned()
    } else {
        format!("{count} CPUs")
    }
}

/// "42 s", "3 min 5 s", "2 h 10 min": how long ago, to the second.
pub(crate) fn age(age: Duration) -> String {
    let seconds = age.as_secs();
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_take_their_unit_and_ages_their_scale() {
        assert_eq!(
            (cpus(1), cpus(1.5), cpus(4)),
            ("1 CPU".into(), "1.5 CPUs".into(), "4 CPUs".into())
        );
        assert_eq!(age(Duration::from_secs(42)), "42 s");
        assert_eq!(age(Duration::from_secs(185)), "3 min 5 s");
        assert_eq!(age(Duration::from_secs(7800)), "2 h 10 min");
    }
}
