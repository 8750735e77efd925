//! The CPU request a Kubernetes container's weight stands for, and where it comes from.
//!
//! The kubelet turns a request into cgroup v1 shares as milliCPU × 1024 / 1000 (its
//! `MilliCPUToShares`, pkg/kubelet/cm/helpers_linux.go), at least 2 (`MinShares`), which
//! every container without a CPU request gets, in a BestEffort or a Burstable pod alike;
//! so on v1 a request is shares / 1024 CPUs. On cgroup v2 the OCI
//! runtime converts those shares to `cpu.weight`, by one of two formulas, both inverted here:
//! - linear, KEP-2254 (runc before 1.3.2, crun before 1.23):
//!   weight = 1 + (shares − 2) × 9999 / 262142, so shares = 2 + (weight − 1) × 262142 / 9999;
//! - quadratic, the Kubernetes blog's "New Conversion from cgroup v1 CPU Shares to v2 CPU
//!   Weight" (runc 1.3.2+, crun 1.23+): weight = ⌈10^((L² + 125·L) / 612 − 7/34)⌉ with
//!   L = log2(shares), so L = (−125 + √(125² + 4 · 612 · (log10(weight) + 7/34))) / 2.
//!
//! A request of 2 CPUs is 2048 shares: weight 79 by the linear formula (back: 2046.9
//! shares, 2.00 CPUs) and 174 by the quadratic one (back: 2062 shares, 2.01 CPUs). Read
//! the other way, weight 79 is 0.74 CPUs by the quadratic inverse, and 174 is 4.43 by the
//! linear one: one weight, two requests. A request of 1 CPU is weight 100 by the quadratic
//! formula, which is also the default weight of a cgroup nobody configured.

/// Shares per CPU in the kubelet's conversion (1024 shares per 1000 millicores).
const SHARES_PER_CPU: f64 = 1024.0;

/// The kubelet's `MinShares`: what it writes for a container without a CPU request, and for
/// requests below 2m.
pub(crate) const MIN_SHARES: u64 = 2;

/// The least `cpu.weight`: both conversions give it [`MIN_SHARES`], the linear one every
/// share count up to 28 (requests below 29m), the quadratic one only 2.
pub(crate) const MIN_WEIGHT: u64 = 1;

/// The request in CPUs that v1 `cpu.shares` stands for.
pub(crate) fn cpus_from_shares(shares: f64) -> f64 {
    shares / SHARES_PER_CPU
}

/// The request in CPUs by KEP-2254's linear conversion of v2 `cpu.weight`.
pub(crate) fn cpus_from_weight_linear(weight: f64) -> f64 {
    cpus_from_shares(2.0 + (weight - 1.0) * 262_142.0 / 9_999.0)
}

/// The request in CPUs by runc 1.3.2's and crun 1.23's quadratic conversion.
pub(crate) fn cpus_from_weight_quadratic(weight: f64) -> f64 {
    let exponent = weight.log10() + 7.0 / 34.0;
    let log2_shares = (-125.0 + (125.0f64.powi(2) + 4.0 * 612.0 * exponent).sqrt()) / 2.0;
    cpus_from_shares(log2_shares.exp2())
}

/// The whole number of threads a request fits: to a tenth first, since the inverse of a
/// rounded conversion is off by about 1% and a request of 2 read back as 2.01 should not
/// give 3; then up; at least 1.
pub(crate) fn threads_for(request: f64) -> u64 {
    ((request * 10.0).round() / 10.0).ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_of_two_cpus_round_trips() {
        // 2 CPUs = 2000m = 2048 shares; weight 79 (linear) or 174 (quadratic)
        assert_eq!(cpus_from_shares(2048.0), 2.0);
        let linear = cpus_from_weight_linear(79.0);
        assert!((linear - 2.0).abs() < 0.01, "{linear}");
        let quadratic = cpus_from_weight_quadratic(174.0);
        assert!((quadratic - 2.0).abs() < 0.02, "{quadratic}");
        assert_eq!((threads_for(linear), threads_for(quadratic)), (2, 2));
    }

    #[test]
    fn one_weight_reads_as_two_requests() {
        // runc 1.1.5 writes 79 for 2 CPUs; the quadratic inverse reads 0.74
        let quadratic = cpus_from_weight_quadratic(79.0);
        assert!((quadratic - 0.74).abs() < 0.01, "{quadratic}");
        assert_eq!(threads_for(quadratic), 1);
        let linear = cpus_from_weight_linear(174.0);
        assert!((linear - 4.43).abs() < 0.01, "{linear}");
    }

    #[test]
    fn the_quadratic_fixed_points() {
        // weight 100 is 1024 shares (1 CPU, and the default); 1 is 2 shares (no request)
        assert!((cpus_from_weight_quadratic(100.0) - 1.0).abs() < 1e-9);
        let least = MIN_WEIGHT as f64;
        let shares = MIN_SHARES as f64;
        assert!((cpus_from_weight_quadratic(least) - cpus_from_shares(shares)).abs() < 1e-9);
        assert!((cpus_from_weight_linear(least) - cpus_from_shares(shares)).abs() < 1e-9);
        // linear weight 100 is a request of about 2.54 CPUs, not the default
        assert!((cpus_from_weight_linear(100.0) - 2.54).abs() < 0.01);
    }
}
