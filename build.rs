//! Records the rustc that builds the crate, for the probe-mismatch finding: std's rule for
//! available_parallelism() is private and changes with the toolchain.

fn main() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map_or_else(|| "an unknown rustc".to_owned(), |text| text.trim().to_owned());
    println!("cargo:rustc-env=KUMO_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");
}
