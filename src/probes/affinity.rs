//! The calling thread's CPU affinity mask and the online CPU count.

/// The CPUs the calling thread may run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affinity {
    /// How many CPUs the mask allows.
    pub count: usize,
    /// The mask as a compact list, such as `0-3,8`.
    pub cpus: String,
    /// Whether the mask fit the 1024-CPU set std passes to `sched_getaffinity`. When it
    /// does not (machines with more CPU ids), std falls back to the online count.
    pub fits_std_set: bool,
}

/// Bits in glibc's `cpu_set_t`, the set std uses.
const STD_SET_BITS: usize = 1024;
/// Larger sets are tried up to this many CPU ids before giving up.
const MAX_SET_BITS: usize = 1 << 22;
const WORD_BITS: usize = libc::c_ulong::BITS as usize;

/// The calling thread's affinity mask, or `None` when the kernel will not say.
#[cfg(target_os = "linux")]
pub fn affinity() -> Option<Affinity> {
    let mut bits = STD_SET_BITS;
    loop {
        let mut words: Vec<libc::c_ulong> = vec![0; bits / WORD_BITS];
        let bytes = words.len() * std::mem::size_of::<libc::c_ulong>();
        // SAFETY: the buffer holds `bytes` writable bytes; pid 0 is the calling thread.
        let rc = unsafe { libc::sched_getaffinity(0, bytes, words.as_mut_ptr().cast()) };
        if rc == 0 {
            return Some(Affinity {
                count: words.iter().map(|w| w.count_ones() as usize).sum(),
                cpus: compact_list(&words),
                fits_std_set: bits == STD_SET_BITS,
            });
        }
        // EINVAL: the kernel's CPU ids do not fit; anything else will not get better.
        let einval = std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL);
        if !einval || bits >= MAX_SET_BITS {
            return None;
        }
        bits *= 2;
    }
}

/// `sysconf(_SC_NPROCESSORS_ONLN)`, or `None` when it fails or says zero.
#[cfg(target_os = "linux")]
pub fn online_cpus() -> Option<usize> {
    // SAFETY: sysconf has no preconditions.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(online).ok().filter(|&n| n > 0)
}

/// Renders set bits as ranges: words [0b1011_1111] -> "0-5,7".
fn compact_list(words: &[libc::c_ulong]) -> String {
    let is_set =
        |cpu: usize| words.get(cpu / WORD_BITS).is_some_and(|w| w >> (cpu % WORD_BITS) & 1 == 1);
    let total = words.len() * WORD_BITS;
    let mut ranges = Vec::new();
    let mut cpu = 0;
    while cpu < total {
        if !is_set(cpu) {
            cpu += 1;
            continue;
        }
        let start = cpu;
        while cpu + 1 < total && is_set(cpu + 1) {
            cpu += 1;
        }
        ranges.push(if start == cpu { start.to_string() } else { format!("{start}-{cpu}") });
        cpu += 1;
    }
    ranges.join(",")
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn compact_list_renders_ranges() {
        assert_eq!(compact_list(&[0b1011_1111]), "0-5,7");
        assert_eq!(compact_list(&[0b1]), "0");
        assert_eq!(compact_list(&[0]), "");
        assert_eq!(
            compact_list(&[1 << (WORD_BITS - 1), 1]),
            format!("{}-{}", WORD_BITS - 1, WORD_BITS)
        );
    }

    #[test]
    fn affinity_matches_std_unconfined_by_cgroups() {
        let mask = affinity().expect("sched_getaffinity works on Linux");
        assert!(mask.count >= 1);
        assert!(mask.fits_std_set);
        assert!(mask.count <= online_cpus().unwrap().max(mask.count));
    }
}
