//! Steal time: on a virtual machine whose host is overcommitted, the hypervisor runs other
//! guests on the CPUs this guest counts, and the kernel tallies the time taken as "steal".
//! Read from the counters since boot, never sampled twice nor slept on ([`cpu_steal_now`]).
//! `/proc/stat` is read only where a hypervisor may be present (CPUID's bit on x86, always
//! elsewhere), since the kernel formats every CPU's and interrupt's counters into it;
//! `/proc/cpuinfo`, dearer still, is opened only when the steal is large enough to matter,
//! and only to name the flag.

use std::io::{BufRead, BufReader};
use std::path::Path;

/// The CPU descriptions; on x86 each CPU's `flags` line names `hypervisor` under a VM.
pub const PROC_CPUINFO: &str = "/proc/cpuinfo";
/// Kernel counters; its first line, `cpu`, sums every CPU's time in ticks since boot:
/// `user nice system idle iowait irq softirq steal guest guest_nice`.
pub const PROC_STAT: &str = "/proc/stat";

/// The `cpu` line is `/proc/stat`'s first, ten counters of at most 20 digits: one read of
/// this much holds it, however many CPUs and interrupts follow.
const STAT_HEAD: usize = 512;

/// The CPU flag x86 kernels show when CPUID says a hypervisor is present.
const HYPERVISOR_FLAG: &str = "hypervisor";
/// Steal, as a share of all CPU time since boot, from which it matters: the cpu-steal
/// finding's threshold, and the point from which the hypervisor flag is read for its text.
pub const STEAL_SHARE_MIN: f64 = 0.01;
/// One CPU's description is about 1.5 KiB; reading this much at a time makes the kernel
/// format one or two CPUs before the first `flags` line, however many CPUs there are.
const CPUINFO_READ: usize = 1024;

/// Time the hypervisor took from this guest since boot, from `/proc/stat`'s `cpu` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CpuSteal {
    /// The `steal` column, in clock ticks (`ticks` in Lua).
    pub steal_ticks: u64,
    /// All CPU time in ticks since boot: user, nice, system, idle, iowait, irq, softirq and steal;
    /// guest time is already inside user and nice (`total` in Lua).
    pub total_ticks: u64,
}

impl CpuSteal {
    /// Steal as a share of all CPU time since boot, 0 to 1: ticks / total.
    pub fn share(&self) -> f64 {
        if self.total_ticks == 0 {
            return 0.0;
        }
        self.steal_ticks as f64 / self.total_ticks as f64
    }
}

/// What the steal probe read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StealProbe {
    /// The steal counters; `None` when `/proc/stat` cannot be read or parsed.
    pub steal: Option<CpuSteal>,
    /// Whether the first CPU's flags name a hypervisor, read only when the steal share is at
    /// least [`STEAL_SHARE_MIN`]; `None` when not read, when `/proc/cpuinfo` has no `flags`
    /// line (not x86), or when it cannot be read.
    pub hypervisor: Option<bool>,
}

/// Whether CPUID says a hypervisor is present (leaf 1, ECX bit 31, the bit behind the
/// `hypervisor` flag); `None` where there is no CPUID. Steal is only ever accounted under
/// a hypervisor's paravirtual clock, so where this is `Some(false)` `/proc/stat`, which the
/// kernel formats for every CPU and interrupt, need not be read.
fn ask_cpuid() -> Option<bool> {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        #[cfg(target_arch = "x86")]
        use std::arch::x86::__cpuid;
        #[cfg(target_arch = "x86_64")]
        use std::arch::x86_64::__cpuid;
        // SAFETY: CPUID leaf 1 exists on every CPU Rust's x86 targets run on. (The
        // intrinsic is safe from Rust 1.94 on; the MSRV still needs the block.)
        #[allow(unused_unsafe)]
        let leaf = unsafe { __cpuid(1) };
        Some(leaf.ecx >> 31 & 1 == 1)
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        None
    }
}

/// [`cpu_steal`] of the real files. Nothing is read where CPUID says no hypervisor is
/// present: steal is only ever accounted under one.
pub fn cpu_steal_now() -> StealProbe {
    if ask_cpuid() == Some(false) {
        return StealProbe::default();
    }
    cpu_steal(Path::new(PROC_STAT), Path::new(PROC_CPUINFO))
}

/// Reads the steal counters from `stat`, then, when steal is at least [`STEAL_SHARE_MIN`]
/// of all time, the hypervisor flag from `cpuinfo`.
pub fn cpu_steal(stat: &Path, cpuinfo: &Path) -> StealProbe {
    let steal = crate::probes::read_head(stat, STAT_HEAD).ok().and_then(|head| parse_stat(&head));
    let hypervisor = if steal.is_some_and(|steal| steal.share() >= STEAL_SHARE_MIN) {
        std::fs::File::open(cpuinfo)
            .ok()
            .and_then(|file| hypervisor_flag(BufReader::with_capacity(CPUINFO_READ, file)))
    } else {
        None
    };
    StealProbe { steal, hypervisor }
}

/// Whether the first `flags` line names the hypervisor flag; stops reading there.
pub(crate) fn hypervisor_flag(mut reader: impl BufRead) -> Option<bool> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&line);
        let Some((key, value)) = text.split_once(':') else { continue };
        if key.trim() == "flags" {
            return Some(value.split_ascii_whitespace().any(|flag| flag == HYPERVISOR_FLAG));
        }
    }
}

/// The steal and total ticks of `/proc/stat`'s first line, which must be the `cpu` line
/// with at least the eight fields through `steal`.
pub(crate) fn parse_stat(content: &[u8]) -> Option<CpuSteal> {
    let first = content.split(|&byte| byte == b'\n').next()?;
    let mut fields = std::str::from_utf8(first).ok()?.split_ascii_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let mut ticks = [0u64; 8];
    for tick in &mut ticks {
        *tick = fields.next()?.parse().ok()?;
    }
    let total = ticks.iter().try_fold(0u64, |sum, &t| sum.checked_add(t))?;
    Some(CpuSteal { steal_ticks: *ticks.last()?, total_ticks: total })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str =
        "cpu  8130 0 2466 178173 1715 0 33 16 0 0\ncpu0 4000 0 1200 89000 800 0 10 8 0 0\n";

    #[test]
    fn stat_gives_steal_and_the_total_without_guest_time() {
        let steal = parse_stat(STAT.as_bytes()).unwrap();
        assert_eq!(steal, CpuSteal { steal_ticks: 16, total_ticks: 190533 });
        assert!((steal.share() - 16.0 / 190533.0).abs() < 1e-12);
    }

    #[test]
    fn stat_with_too_few_fields_or_another_first_line_says_nothing() {
        assert_eq!(parse_stat(b"cpu  1 2 3 4 5 6 7\n"), None);
        assert_eq!(parse_stat(b"intr 1 2 3\ncpu  1 2 3 4 5 6 7 8\n"), None);
        assert_eq!(parse_stat(b"cpu  1 2 x 4 5 6 7 8\n"), None);
        assert_eq!(parse_stat(b""), None);
    }

    #[test]
    fn a_zero_total_is_no_steal() {
        assert_eq!(parse_stat(b"cpu 0 0 0 0 0 0 0 0\n").unwrap().share(), 0.0);
    }

    #[test]
    fn the_first_flags_line_decides() {
        let vm = "processor\t: 0\nflags\t\t: fpu vme hypervisor lahf_lm\n\nprocessor\t: 1\n";
        assert_eq!(hypervisor_flag(vm.as_bytes()), Some(true));
        let metal =
            "processor\t: 0\nflags\t\t: fpu vme lahf_lm\nprocessor\t: 1\nflags : hypervisor\n";
        assert_eq!(hypervisor_flag(metal.as_bytes()), Some(false));
        // arm64 says "Features", not "flags"
        assert_eq!(hypervisor_flag("processor : 0\nFeatures : fp asimd\n".as_bytes()), None);
        // a flag that merely contains the word is not the flag
        assert_eq!(hypervisor_flag("flags : nohypervisor\n".as_bytes()), Some(false));
    }

    #[test]
    fn the_flag_is_read_only_when_steal_matters() {
        let dir = crate::probes::scratch::Scratch::dir("steal");
        let (stat, cpuinfo) = (dir.path.join("stat"), dir.path.join("cpuinfo"));
        std::fs::write(&cpuinfo, "flags\t\t: fpu hypervisor\n").unwrap();
        std::fs::write(&stat, "cpu  100 0 0 899 0 0 0 1 0 0\n").unwrap();
        let low = cpu_steal(&stat, &cpuinfo);
        assert_eq!((low.steal.map(|s| s.steal_ticks), low.hypervisor), (Some(1), None));
        std::fs::write(&stat, "cpu  100 0 0 800 0 0 0 100 0 0\n").unwrap();
        let high = cpu_steal(&stat, &cpuinfo);
        assert_eq!((high.steal.map(|s| s.share()), high.hypervisor), (Some(0.1), Some(true)));
        std::fs::write(&cpuinfo, "flags\t\t: fpu\n").unwrap();
        assert_eq!(cpu_steal(&stat, &cpuinfo).hypervisor, Some(false));
    }
}
