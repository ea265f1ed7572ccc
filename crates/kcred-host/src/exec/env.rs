//! The plugin's environment: the host's, then the configured `env`, last duplicate wins.
//!
//! The kubelet builds `append(os.Environ(), "NAME=VALUE"...)` and Go's `os/exec` keeps only
//! the last value of a duplicated key ([`merge_env`] builds the list, [`effective_env`]
//! applies Go's de-duplication).

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};

use kcred_api::config::ExecEnvVar;

/// The kubelet's env list: every host entry, then `NAME=VALUE` for each configured
/// entry, in order, duplicates kept (the list `Test_ExecPluginEnvVars` compares).
pub fn merge_env<I>(host: I, configured: &[ExecEnvVar]) -> Vec<OsString>
where
    I: IntoIterator<Item = OsString>,
{
    let mut merged: Vec<OsString> = host.into_iter().collect();
    merged.reserve(configured.len());
    for var in configured {
        let mut entry = OsString::with_capacity(var.name.len() + 1 + var.value.len());
        entry.push(&var.name);
        entry.push("=");
        entry.push(&var.value);
        merged.push(entry);
    }
    merged
}

/// The host's environment as `NAME=VALUE` entries (what Go's `os.Environ()` returns).
pub fn host_env() -> Vec<OsString> {
    std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k;
            e.push("=");
            e.push(v);
            e
        })
        .collect()
}

/// What the process actually gets from a merged list: Go's `dedupEnv`, keeping the last
/// value of each key, in the order of those last occurrences. Entries without `=` (or
/// with an empty name) cannot be passed to a process and are dropped.
pub fn effective_env(list: &[OsString]) -> Vec<(OsString, OsString)> {
    // A set, not a list: the configured `env` may be long, and this runs on every exec.
    let mut seen: HashSet<OsString> = HashSet::with_capacity(list.len());
    let mut out: Vec<(OsString, OsString)> = Vec::new();
    for entry in list.iter().rev() {
        let Some((name, value)) = split_entry(entry) else {
            continue;
        };
        if !seen.insert(env_key(name)) {
            continue;
        }
        out.push((name.to_os_string(), value.to_os_string()));
    }
    out.reverse();
    out
}

/// Splits `NAME=VALUE` at the first `=` (on Windows a leading `=` belongs to the name,
/// as in `=C:=C:\dir`).
fn split_entry(entry: &OsStr) -> Option<(&OsStr, &OsStr)> {
    let bytes = entry.as_encoded_bytes();
    let start = usize::from(cfg!(windows) && bytes.first() == Some(&b'='));
    let at = bytes.get(start..)?.iter().position(|&b| b == b'=')? + start;
    if at == 0 {
        return None;
    }
    // SAFETY: both halves are split at an ASCII '=' of bytes obtained from
    // `as_encoded_bytes`, which the std docs allow to be turned back into `OsStr`s.
    let (name, value) = unsafe {
        (
            OsStr::from_encoded_bytes_unchecked(&bytes[..at]),
            OsStr::from_encoded_bytes_unchecked(&bytes[at + 1..]),
        )
    };
    Some((name, value))
}

/// The de-duplication key: case-insensitive on Windows, exact elsewhere.
fn env_key(name: &OsStr) -> OsString {
    if cfg!(windows) {
        OsString::from(name.to_string_lossy().to_uppercase())
    } else {
        name.to_os_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, value: &str) -> ExecEnvVar {
        ExecEnvVar {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn last_duplicate_wins_in_order_of_last_occurrence() {
        let merged = merge_env(
            ["A=1", "B=2", "A=3"].map(OsString::from),
            &[var("B", "4"), var("C", "5")],
        );
        let eff = effective_env(&merged);
        let eff: Vec<(String, String)> = eff
            .into_iter()
            .map(|(k, v)| (k.into_string().unwrap(), v.into_string().unwrap()))
            .collect();
        assert_eq!(
            eff,
            vec![
                ("A".to_owned(), "3".to_owned()),
                ("B".to_owned(), "4".to_owned()),
                ("C".to_owned(), "5".to_owned())
            ]
        );
    }

    /// Go's `dedupEnv` uses a map; a long configured `env` must not make every exec
    /// quadratic (200 000 entries took minutes).
    #[test]
    fn long_env_lists_dedupe_keeping_the_last_value() {
        let n = 200_000;
        let list: Vec<OsString> = (0..n)
            .map(|i| OsString::from(format!("VAR_{}={i}", i % (n / 2))))
            .collect();
        let eff = effective_env(&list);
        assert_eq!(eff.len(), n / 2);
        assert_eq!(eff[0], (OsString::from("VAR_0"), OsString::from("100000")));
    }

    #[test]
    fn value_may_contain_equals_and_junk_is_dropped() {
        let list = ["K=a=b", "noequals", "=x"].map(OsString::from);
        let eff = effective_env(&list);
        assert_eq!(eff, vec![(OsString::from("K"), OsString::from("a=b"))]);
    }
}
