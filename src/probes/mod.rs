//! Probes: what the kernel tells about this process's CPUs, for `explain()`.
//!
//! They follow Rust std's rules for `available_parallelism()` to the letter, so that the
//! number they derive is the number std returns, while also keeping every intermediate
//! fact a person needs to understand it. Failure to read a kernel file narrows nothing;
//! it is reported, never raised. Filesystem roots are parameters ([`Roots`]) so that the
//! parsers are tested on fixture trees.

mod affinity;
mod cgroup_v1;
mod cgroup_v2;
mod cgroups;
mod mountinfo;

#[cfg(target_os = "linux")]
pub use affinity::{affinity, online_cpus};
pub use affinity::Affinity;
#[cfg(target_os = "linux")]
pub use cgroups::{cgroup, Roots};
#[cfg(test)]
pub(crate) fn cgroup_v2_fraction(limit: &str, period: &str) -> Option<f64> {
    cgroup_v2::fraction(Some(limit), Some(period))
}
pub use cgroups::{CgroupLevel, CgroupReport, CgroupVersion};

#[cfg(all(test, target_os = "linux"))]
mod fixture_tests;
