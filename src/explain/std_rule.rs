//! std's rule for `available_parallelism()`, applied to what the probes read, so that
//! explain() can name what decided and check itself against std's own answer.

use std::num::NonZeroUsize;

use super::explanation::Source;
use crate::probes::{Affinity, CgroupReport};

/// std's rule: the quota (at least 1) caps the affinity count; without a usable mask, it
/// caps the online count (std's fallback). The source is the quota's where it is below the
/// count it caps, whichever that is.
pub(crate) fn derive(
    cgroup: Option<&CgroupReport>,
    affinity: Option<&Affinity>,
    online: Option<usize>,
) -> Option<(NonZeroUsize, Source)> {
    let quota = cgroup.and_then(CgroupReport::whole_quota).unwrap_or(usize::MAX).max(1);
    let (count, uncapped) = match affinity.filter(|mask| mask.usable_by_std()) {
        Some(mask) => (mask.count, Source::Affinity),
        None => (online?, Source::Online),
    };
    // the fractional quota decides the source: 0.5 CPU on a 1-CPU mask still binds
    let binds = cgroup.and_then(CgroupReport::quota).is_some_and(|q| q < count as f64);
    let source = if binds { Source::Cgroup } else { uncapped };
    Some((NonZeroUsize::new(count.min(quota))?, source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::explanation::tests::{mask, report_with};

    /// One level, `/pod/ctr`, with `cpu.max` = `limit period`.
    fn quota_of(limit: &str, period: &str) -> CgroupReport {
        report_with(&[("/pod/ctr", limit, period)])
    }

    fn derived(
        cgroup: Option<&CgroupReport>,
        affinity: Option<&Affinity>,
        online: Option<usize>,
    ) -> (usize, Source) {
        let (count, source) = derive(cgroup, affinity, online).expect("derivable");
        (count.get(), source)
    }

    #[test]
    fn quota_below_the_mask_decides() {
        assert_eq!(
            derived(Some(&quota_of("150000", "100000")), Some(&mask(4)), Some(4)),
            (1, Source::Cgroup)
        );
    }

    #[test]
    fn quota_below_one_is_raised_to_one() {
        assert_eq!(
            derived(Some(&quota_of("50000", "100000")), Some(&mask(4)), Some(4)),
            (1, Source::Cgroup)
        );
    }

    #[test]
    fn half_a_cpu_on_one_cpu_is_still_the_cgroup() {
        assert_eq!(
            derived(Some(&quota_of("50000", "100000")), Some(&mask(1)), Some(1)),
            (1, Source::Cgroup)
        );
    }

    #[test]
    fn quota_equal_to_the_mask_leaves_affinity_deciding() {
        assert_eq!(
            derived(Some(&quota_of("200000", "100000")), Some(&mask(2)), Some(8)),
            (2, Source::Affinity)
        );
    }

    #[test]
    fn without_a_mask_the_quota_caps_the_online_count() {
        // the quota below the online count decides, as it does below a mask
        assert_eq!(
            derived(Some(&quota_of("300000", "100000")), None, Some(8)),
            (3, Source::Cgroup)
        );
        assert_eq!(
            derived(Some(&quota_of("900000", "100000")), None, Some(8)),
            (8, Source::Online)
        );
        assert_eq!(derived(None, None, Some(8)), (8, Source::Online));
    }

    #[test]
    fn a_mask_beyond_std_set_falls_back_to_online_like_std() {
        let wide = Affinity { fits_std_set: false, ..mask(2000) };
        assert_eq!(derived(None, Some(&wide), Some(2048)), (2048, Source::Online));
        // a wide machine's quota of 3 over 4 online CPUs: the quota decided std's answer
        let pinned = Affinity { fits_std_set: false, ..mask(1) };
        assert_eq!(
            derived(Some(&quota_of("300000", "100000")), Some(&pinned), Some(4)),
            (3, Source::Cgroup)
        );
    }
}
