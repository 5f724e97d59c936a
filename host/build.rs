//! Embeds the built web panel (`web/dist`, made by `cargo xtask build`) in the binary,
//! so a release is one file. Without a build the panel serves a page saying how to
//! make one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let dist = manifest_dir.join("../web/dist");
    let mut files = Vec::new();
    if dist.is_dir() {
        println!("cargo:rerun-if-changed={}", dist.display());
        collect(&dist, &dist, &mut files);
    } else {
        // Watching a path that does not exist would rebuild the host every time.
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join("../web/index.html").display()
        );
    }
    files.sort();
    let mut code = String::from(
        "/// The built web panel: (path, bytes).\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (path, absolute) in &files {
        writeln!(
            code,
            "    ({path:?}, include_bytes!({:?})),",
            absolute.display().to_string()
        )
        .expect("writing to a string");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("web_assets.rs"), code).expect("OUT_DIR is writable");
}

/// Every file under `dir`, as (`/path` from `root`, absolute path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            let web_path = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
            let absolute = path.canonicalize().unwrap_or(path);
            files.push((web_path, absolute));
        }
    }
}
