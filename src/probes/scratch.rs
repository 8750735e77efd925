//! For tests: files and directories made by `tempfile`, unique and removed on drop, with
//! their path at hand.

use std::path::PathBuf;

/// A file or directory made for one test, removed on drop.
pub(crate) struct Scratch {
    pub(crate) path: PathBuf,
    _kept: Kept,
}

/// What removes the scratch on drop.
enum Kept {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    File(#[allow(dead_code)] tempfile::TempPath),
}

impl Scratch {
    pub(crate) fn file(name: &str, content: &str) -> Scratch {
        let file = tempfile::Builder::new().prefix(&format!("kumo-{name}-")).tempfile().unwrap();
        std::fs::write(file.path(), content).unwrap();
        let kept = file.into_temp_path();
        Scratch { path: kept.to_path_buf(), _kept: Kept::File(kept) }
    }

    pub(crate) fn dir(name: &str) -> Scratch {
        let dir = tempfile::Builder::new().prefix(&format!("kumo-{name}-")).tempdir().unwrap();
        Scratch { path: dir.path().to_path_buf(), _kept: Kept::Dir(dir) }
    }
}
