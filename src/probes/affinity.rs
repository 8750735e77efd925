//! The CPU affinity masks of the calling thread (what std counts) and of the process's
//! main thread, and the online CPU count.

use std::fmt::Write;

/// The CPUs the calling thread may run on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Affinity {
    /// How many CPUs the mask allows.
    pub count: usize,
    /// The mask as a compact list, such as `0-3,8`.
    pub cpus: String,
    /// Whether the mask fit the 1024-CPU set std passes to `sched_getaffinity`. When it
    /// does not (machines with more CPU ids), std falls back to the online count.
    pub fits_std_set: bool,
}

impl Affinity {
    /// Whether std counts this mask: it fit std's set and allows a CPU. Otherwise std
    /// counts the online CPUs.
    pub fn usable_by_std(&self) -> bool {
        self.fits_std_set && self.count > 0
    }
}

/// Bits in glibc's `cpu_set_t`, the set std uses.
const STD_SET_BITS: usize = 1024;
/// The largest set explain() asks with: 8192 CPU ids, the most `NR_CPUS` allows on any
/// architecture Linux builds today (x86_64 with MAXSMP, powerpc). A kernel with more possible
/// CPUs than this gets an error, not a guess.
const MAX_SET_BITS: usize = 8192;
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
    let pid = libc::pid_t::try_from(std::process::id())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::ESRCH))?;
    affinity_of(pid)
}

/// `sched_getaffinity(pid)` with std's 1024-CPU set; where the kernel refuses that set
/// (EINVAL: it may have more CPU ids, `nr_cpu_ids`), once more with a set sized from
/// [`SYS_CPU_POSSIBLE`], rounded up to whole words ([`MAX_SET_BITS`] when the file cannot be
/// read). pid 0 is the calling thread.
#[cfg(target_os = "linux")]
fn affinity_of(pid: libc::pid_t) -> std::io::Result<Affinity> {
    let refused = match read_mask(pid, STD_SET_BITS) {
        Err(err) if err.raw_os_error() == Some(libc::EINVAL) => err,
        read => return read,
    };
    // possible_cpus reads no id past MAX_SET_BITS: a list naming one is no list here
    let possible = possible_cpus(std::path::Path::new(SYS_CPU_POSSIBLE));
    let bits = possible.map_or(MAX_SET_BITS, |ids| ids.div_ceil(WORD_BITS) * WORD_BITS);
    if bits <= STD_SET_BITS {
        return Err(refused);
    }
    Ok(Affinity { fits_std_set: false, ..read_mask(pid, bits)? })
}

/// One `sched_getaffinity(pid)` with a set of `bits` CPU ids.
#[cfg(target_os = "linux")]
fn read_mask(pid: libc::pid_t, bits: usize) -> std::io::Result<Affinity> {
    let mut words: Vec<libc::c_ulong> = vec![0; bits / WORD_BITS];
    let bytes = words.len() * std::mem::size_of::<libc::c_ulong>();
    // SAFETY: the buffer holds `bytes` writable bytes.
    let rc = unsafe { libc::sched_getaffinity(pid, bytes, words.as_mut_ptr().cast()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(Affinity {
        count: words.iter().map(|w| w.count_ones() as usize).sum(),
        cpus: compact_list(&words),
        fits_std_set: true,
    })
}

/// The online CPUs as the kernel lists them, such as `0-3,8`.
pub const SYS_CPU_ONLINE: &str = "/sys/devices/system/cpu/online";

/// The CPUs that may ever be present (hot-add slots included): the kernel's
/// `nr_cpu_ids` is its highest id + 1, and `sched_getaffinity` fails with EINVAL on a set
/// smaller than that.
pub const SYS_CPU_POSSIBLE: &str = "/sys/devices/system/cpu/possible";

/// The calling thread's status; its `Cpus_allowed_list` is the affinity mask.
pub const PROC_THREAD_SELF_STATUS: &str = "/proc/thread-self/status";

/// What std's fallback counts where it cannot use the calling thread's mask: it asks
/// `sysconf(_SC_NPROCESSORS_ONLN)`, and so does this, for std's number by construction (glibc
/// reads [`SYS_CPU_ONLINE`] for it; musl asks `sched_getaffinity` itself and answers 1 when that
/// fails). `None` when it fails or says zero.
#[cfg(target_os = "linux")]
pub fn online_cpus() -> Option<usize> {
    // SAFETY: sysconf has no preconditions.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(online).ok().filter(|&n| n > 0)
}

/// The calling thread's `Cpus_allowed_list` from `status` (`/proc/thread-self/status`), as
/// `sched_getaffinity` would give it: the kernel prints the task's mask as set, while the
/// system call answers it ANDed with the active CPUs, so the list is intersected with the
/// online CPUs (`online`, when it can be read). It fits std's set when the possible CPUs
/// (`possible`) do, since the kernel refuses a smaller set whatever the mask.
pub fn status_affinity(
    status: &std::path::Path,
    online: &std::path::Path,
    possible: &std::path::Path,
) -> Option<Affinity> {
    let content = super::read_kernel_file(status).ok()?;
    let text = String::from_utf8(content).ok()?;
    let list = text.lines().find_map(|line| line.strip_prefix("Cpus_allowed_list:"))?.trim();
    let mut words = list_words(list)?;
    if let Some(online) = read_list(online) {
        for (word, online) in words.iter_mut().zip(online.iter().chain(std::iter::repeat(&0))) {
            *word &= online;
        }
    }
    let possible_ids = read_list(possible)
        .map_or(words.len() * WORD_BITS, |possible| highest(&possible).map_or(0, |id| id + 1));
    Some(Affinity {
        count: words.iter().map(|w| w.count_ones() as usize).sum(),
        cpus: compact_list(&words),
        fits_std_set: possible_ids <= STD_SET_BITS,
    })
}

/// The CPUs the kernel may ever have (`nr_cpu_ids`): the highest id in `possible` (such as
/// [`SYS_CPU_POSSIBLE`]) plus one; `None` when it cannot be read or names none.
pub fn possible_cpus(possible: &std::path::Path) -> Option<usize> {
    highest(&read_list(possible)?).map(|id| id + 1)
}

/// A kernel CPU list file, as set bits.
fn read_list(path: &std::path::Path) -> Option<Vec<libc::c_ulong>> {
    let content = super::read_kernel_file(path).ok()?;
    list_words(std::str::from_utf8(&content).ok()?.trim())
}

/// The highest set bit.
fn highest(words: &[libc::c_ulong]) -> Option<usize> {
    let (index, word) = words.iter().enumerate().rev().find(|(_, word)| **word != 0)?;
    Some(index * WORD_BITS + (WORD_BITS - 1 - word.leading_zeros() as usize))
}

/// A kernel CPU list such as `0-3,8` as set bits; `None` when it is not one, or names a CPU
/// beyond [`MAX_SET_BITS`].
pub(crate) fn list_words(list: &str) -> Option<Vec<libc::c_ulong>> {
    let mut words: Vec<libc::c_ulong> = Vec::new();
    if list.is_empty() {
        return Some(words);
    }
    for range in list.split(',') {
        let (first, last) = match range.split_once('-') {
            Some((first, last)) => (first.parse::<usize>().ok()?, last.parse::<usize>().ok()?),
            None => {
                let cpu = range.parse::<usize>().ok()?;
                (cpu, cpu)
            }
        };
        if first > last || last >= MAX_SET_BITS {
            return None;
        }
        if words.len() <= last / WORD_BITS {
            words.resize(last / WORD_BITS + 1, 0);
        }
        for cpu in first..=last {
            if let Some(word) = words.get_mut(cpu / WORD_BITS) {
                *word |= 1 << (cpu % WORD_BITS);
            }
        }
    }
    Some(words)
}

/// Renders set bits as ranges: words [0b1011_1111] -> "0-5,7". Visits set bits only, so a
/// 1024-bit set with a few CPUs costs a few steps.
pub fn compact_list(words: &[libc::c_ulong]) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (index, &word) in words.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            let cpu = index * WORD_BITS + bits.trailing_zeros() as usize;
            match ranges.last_mut() {
                Some((_, last)) if *last + 1 == cpu => *last = cpu,
                _ => ranges.push((cpu, cpu)),
            }
            bits &= bits - 1;
        }
    }
    let mut list = String::new();
    for (first, last) in ranges {
        let separator = if list.is_empty() { "" } else { "," };
        // writing to a String cannot fail
        let _ = if first == last {
            write!(list, "{separator}{first}")
        } else {
            write!(list, "{separator}{first}-{last}")
        };
    }
    list
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::path::Path;

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

    /// Tests of this machine's own kernel, which hold on any machine: what they expect is
    /// read from the kernel by the test itself. The real-kernel lane runs them (the filter
    /// `on_this_machine`) on a kernel with more possible CPUs than std's set too.
    mod on_this_machine {
        use std::collections::BTreeSet;

        use super::*;

        /// A kernel CPU list as the set of its ids, parsed here, apart from the probes.
        fn ids(list: &str) -> BTreeSet<usize> {
            let list = list.trim();
            let ranges = list.split(',').filter(|range| !range.is_empty());
            ranges
                .flat_map(|range| {
                    let (first, last) = range.split_once('-').unwrap_or((range, range));
                    first.parse::<usize>().unwrap()..=last.parse::<usize>().unwrap()
                })
                .collect()
        }

        fn file(path: &str) -> String {
            std::fs::read_to_string(path).unwrap()
        }

        #[test]
        fn affinity_is_the_kernels_own_list_of_those_online() {
            // the kernel's text for the same mask, read by the test itself: the task's list
            // as set, which sched_getaffinity answers ANDed with the CPUs online
            let status = file("/proc/thread-self/status");
            let listed = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap();
            let online = ids(&file(SYS_CPU_ONLINE));
            let expected: BTreeSet<usize> = ids(listed).intersection(&online).copied().collect();
            let mask = affinity().expect("sched_getaffinity works on Linux");
            assert_eq!(ids(&mask.cpus), expected, "{mask:?}");
            assert_eq!(mask.count, expected.len());
            // std's set holds 1024 ids; the kernel refuses it where more are possible
            let possible = ids(&file(SYS_CPU_POSSIBLE)).last().copied().unwrap() + 1;
            assert_eq!(mask.fits_std_set, possible <= 1024, "{possible} possible CPU ids");
            let (online, possible) = (Path::new(SYS_CPU_ONLINE), Path::new(SYS_CPU_POSSIBLE));
            assert_eq!(
                status_affinity(Path::new(PROC_THREAD_SELF_STATUS), online, possible),
                Some(mask)
            );
        }

        #[test]
        fn online_is_the_count_of_processors_proc_cpuinfo_lists() {
            // /proc/cpuinfo describes the online CPUs, one "processor" line each: a source
            // independent of the online list and of sysconf
            let cpuinfo = file("/proc/cpuinfo");
            let processors = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
            assert!(processors >= 1, "{cpuinfo}");
            assert_eq!(online_cpus(), Some(processors));
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

    /// A scratch directory with a status file listing `allowed`, and the online and
    /// possible lists.
    fn lists(allowed: &str, online: &str, possible: &str) -> crate::probes::scratch::Scratch {
        let dir = crate::probes::scratch::Scratch::dir("lists");
        std::fs::write(
            dir.path.join("status"),
            format!("Name:\tx\nCpus_allowed_list:\t{allowed}\n"),
        )
        .unwrap();
        std::fs::write(dir.path.join("online"), format!("{online}\n")).unwrap();
        std::fs::write(dir.path.join("possible"), format!("{possible}\n")).unwrap();
        dir
    }

    fn listed(dir: &crate::probes::scratch::Scratch) -> Option<Affinity> {
        let path = |name| dir.path.join(name);
        status_affinity(&path("status"), &path("online"), &path("possible"))
    }

    #[test]
    fn cpus_allowed_list_is_read_as_sched_getaffinity_answers_it() {
        // a VM with 64 hot-add slots and 8 CPUs online: the task's mask names all 64, the
        // system call answers those online
        let hot_add = listed(&lists("0-63", "0-7", "0-63")).unwrap();
        assert_eq!((hot_add.count, hot_add.cpus.as_str(), hot_add.fits_std_set), (8, "0-7", true));
        let pinned = listed(&lists("2,5-6", "0-3,5", "0-7")).unwrap();
        assert_eq!((pinned.count, pinned.cpus.as_str()), (2, "2,5"));
        // the kernel refuses std's 1024-CPU set where more CPUs are possible, whatever the mask
        let dir = lists("0-3", "0-3", "0-2047");
        assert!(!listed(&dir).unwrap().fits_std_set);
        assert_eq!(possible_cpus(&dir.path.join("possible")), Some(2048));
        assert!(listed(&lists("0-3", "0-3", "0-1023")).unwrap().fits_std_set);
        // without the online list, the mask as listed
        let dir = lists("0-3", "0-1", "0-3");
        std::fs::remove_file(dir.path.join("online")).unwrap();
        assert_eq!(listed(&dir).unwrap().count, 4);
    }
}
