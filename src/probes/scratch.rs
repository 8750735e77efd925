//! For tests: files and directories under the temporary directory, unique per test and
//! process, removed on drop.

use std::path::PathBuf;

/// A file or directory made for one test, removed on drop.
pub(crate) struct Scratch {
    pub(crate) path: PathBuf,
}

impl Scratch {
    pub(crate) fn unique_path(name: &str) -> PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        std::env::temp_dir().join(format!("kumo-{name}-{}-{n}", std::process::id()))
    }

    pub(crate) fn file(name: &str, content: &str) -> Scratch {
        let path = Scratch::unique_path(name);
        std::fs::write(&path, content).unwrap();
        Scratch { path }
    }

    pub(crate) fn dir(name: &str) -> Scratch {
        let path = Scratch::unique_path(name);
        std::fs::create_dir_all(&path).unwrap();
        Scratch { path }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path).or_else(|_| std::fs::remove_file(&self.path));
    }
}
