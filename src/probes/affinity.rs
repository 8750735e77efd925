//! The CPU affinity masks of the calling thread (what std counts) and of the process's
//! main thread, and the online CPU count.

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

/// The calling thread's affinity mask, the one std counts; the error when the kernel will
/// not say.
#[cfg(target_os = "linux")]
pub fn affinity() -> std::io::Result<Affinity> {
    affinity_of(0)
}

/// The affinity mask of the process's main thread (its pid), to compare with the calling
/// thread's: a thread that pinned itself sees fewer CPUs than the process was given.
#[cfg(target_os = "linux")]
pub fn process_affinity() -> std::io::Result<Affinity> {
    // SAFETY: getpid has no preconditions and cannot fail.
    affinity_of(unsafe { libc::getpid() })
}

/// `sched_getaffinity(pid)`, with a set grown past 1024 CPU ids while the kernel says the
/// ids do not fit; pid 0 is the calling thread.
#[cfg(target_os = "linux")]
fn affinity_of(pid: libc::pid_t) -> std::io::Result<Affinity> {
    let mut bits = STD_SET_BITS;
    loop {
        let mut words: Vec<libc::c_ulong> = vec![0; bits / WORD_BITS];
        let bytes = words.len() * std::mem::size_of::<libc::c_ulong>();
        // SAFETY: the buffer holds `bytes` writable bytes.
        let rc = unsafe { libc::sched_getaffinity(pid, bytes, words.as_mut_ptr().cast()) };
        if rc == 0 {
            return Ok(Affinity {
                count: words.iter().map(|w| w.count_ones() as usize).sum(),
                cpus: compact_list(&words),
                fits_std_set: bits == STD_SET_BITS,
            });
        }
        // EINVAL: the kernel's CPU ids do not fit; anything else will not get better.
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINVAL) || bits >= MAX_SET_BITS {
            return Err(err);
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

    #[test]
    fn a_thread_that_pins_itself_sees_fewer_cpus_than_its_process() {
        let process = process_affinity().expect("the process's mask");
        let first_cpu: usize =
            process.cpus.split([',', '-']).next().unwrap().parse().expect("a CPU id");
        let (thread, process_seen_from_thread) = std::thread::spawn(move || {
            // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays inside it.
            unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(first_cpu, &mut set);
                assert_eq!(libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set), 0);
            }
            (affinity().unwrap(), process_affinity().unwrap())
        })
        .join()
        .unwrap();
        assert_eq!((thread.count, thread.cpus), (1, first_cpu.to_string()));
        assert_eq!(process_seen_from_thread, process);
    }
}
