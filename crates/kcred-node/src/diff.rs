//! Unified diffs of planned file changes (`kcred install --dry-run`).

use sha2::{Digest, Sha256};
use similar::TextDiff;

/// Whether bytes look like a binary file (NUL byte or not UTF-8).
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.contains(&0) || std::str::from_utf8(bytes).is_err()
}

fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..6])
}

/// A `diff -u` style diff of one file, `a/PATH` → `b/PATH` (`/dev/null` for a new file).
/// Binary files get one summary line with sizes and hashes.
pub fn unified(path: &str, before: Option<&[u8]>, after: &[u8]) -> String {
    let old_name = if before.is_some() {
        format!("a{path}")
    } else {
        "/dev/null".to_owned()
    };
    let new_name = format!("b{path}");
    let old = before.unwrap_or_default();
    if is_binary(old) || is_binary(after) {
        let old_desc = match before {
            Some(b) => format!("{} bytes, sha256 {}…", b.len(), short_hash(b)),
            None => "absent".to_owned(),
        };
        return format!(
            "Binary files {old_name} and {new_name} differ ({old_desc} -> {} bytes, sha256 {}…)\n",
            after.len(),
            short_hash(after)
        );
    }
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(after);
    let diff = TextDiff::from_lines(old.as_ref(), new.as_ref());
    let mut out = diff
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &new_name)
        .to_string();
    if !out.ends_with('\n') && !out.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary() {
        let d = unified("/etc/default/kubelet", Some(b"A=1\nB=2\n"), b"A=1\nB=3\n");
        assert!(
            d.starts_with("--- a/etc/default/kubelet\n+++ b/etc/default/kubelet\n"),
            "{d}"
        );
        assert!(d.contains("-B=2\n+B=3\n"), "{d}");
        let n = unified("/x", None, b"new\n");
        assert!(n.starts_with("--- /dev/null\n+++ b/x\n"), "{n}");
        let b = unified("/bin/p", None, b"\x7fELF\0\0");
        assert!(
            b.starts_with("Binary files /dev/null and b/bin/p differ (absent -> 6 bytes"),
            "{b}"
        );
    }
}
