//! Kubelet command-line flags and the files distributions keep them in.
//!
//! - systemd `EnvironmentFile`s holding one variable of flags: kubeadm's
//!   `/etc/default/kubelet` / `/etc/sysconfig/kubelet` (`KUBELET_EXTRA_ARGS`),
//!   `/var/lib/kubelet/kubeadm-flags.env` (`KUBELET_KUBEADM_ARGS`, rewritten by kubeadm, so
//!   only read), AKS's `/etc/default/kubelet` (`KUBELET_FLAGS`);
//! - line files, one flag per line: MicroK8s' `/var/snap/microk8s/current/args/kubelet`
//!   (canonical/microk8s#4371);
//! - k3s/RKE2 YAML configs (`/etc/rancher/{k3s,rke2}/config.yaml` and `config.yaml.d/*.yaml`)
//!   whose `kubelet-arg` entries are flags without the leading `--`.
//!
//! Flags are parsed as the kubelet's pflag does for long flags: `--name=value` or
//! `--name value`; the last occurrence of a string flag wins, and `--feature-gates`
//! occurrences merge (component-base's `MapStringBool`).

/// The flag naming the credential-provider config file or directory.
pub const CONFIG_FLAG: &str = "image-credential-provider-config";
/// The flag naming the plugin directory.
pub const BIN_DIR_FLAG: &str = "image-credential-provider-bin-dir";
/// The kubelet's feature-gate flag.
pub const FEATURE_GATES_FLAG: &str = "feature-gates";
/// The kubelet's config drop-in directory flag (KEP-3983).
pub const KUBELET_CONFIG_DIR_FLAG: &str = "config-dir";
/// The kubelet's config-file flag.
pub const KUBELET_CONFIG_FLAG: &str = "config";

/// One occurrence of a flag in an argument list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagOccurrence {
    /// Index of the `--name` token.
    pub index: usize,
    /// Whether the value is the next token (`--name value`) rather than `--name=value`.
    pub separate_value: bool,
    /// The value.
    pub value: String,
}

/// Every occurrence of `--name` in `args`, in order.
pub fn occurrences(args: &[String], name: &str) -> Vec<FlagOccurrence> {
    let long = format!("--{name}");
    let with_eq = format!("--{name}=");
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            break;
        }
        if let Some(v) = a.strip_prefix(&with_eq) {
            out.push(FlagOccurrence {
                index: i,
                separate_value: false,
                value: v.to_owned(),
            });
        } else if *a == long {
            let value = args.get(i + 1).cloned().unwrap_or_default();
            out.push(FlagOccurrence {
                index: i,
                separate_value: true,
                value,
            });
            i += 1;
        }
        i += 1;
    }
    out
}

/// The value the kubelet uses for a string flag: the last occurrence's.
pub fn last_value(args: &[String], name: &str) -> Option<String> {
    occurrences(args, name).pop().map(|o| o.value)
}

/// Sets `--name=value`: the first occurrence is rewritten in place, later ones removed, or
/// the flag is appended. Returns whether anything changed.
pub fn set_flag(args: &mut Vec<String>, name: &str, value: &str) -> bool {
    let occ = occurrences(args, name);
    let wanted = format!("--{name}={value}");
    if occ.len() == 1 && !occ[0].separate_value && occ[0].value == value {
        return false;
    }
    remove_occurrences(args, &occ[occ.len().min(1)..]);
    match occ.first() {
        Some(first) => {
            if first.separate_value && first.index + 1 < args.len() {
                args.remove(first.index + 1);
            }
            args[first.index] = wanted;
        }
        None => args.push(wanted),
    }
    true
}

/// Removes every occurrence of `--name`. Returns whether anything changed.
pub fn remove_flag(args: &mut Vec<String>, name: &str) -> bool {
    let occ = occurrences(args, name);
    remove_occurrences(args, &occ);
    !occ.is_empty()
}

fn remove_occurrences(args: &mut Vec<String>, occ: &[FlagOccurrence]) {
    for o in occ.iter().rev() {
        if o.separate_value && o.index + 1 < args.len() {
            args.remove(o.index + 1);
        }
        args.remove(o.index);
    }
}

/// Parses a `--feature-gates` value into `(name, value)` pairs in order (entries that are not
/// `Name=bool` are kept verbatim with `None`, so rewriting keeps them).
pub fn parse_gates(value: &str) -> Vec<(String, Option<bool>)> {
    value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| match e.split_once('=') {
            Some((n, v)) => (
                n.trim().to_owned(),
                go_bool(v.trim()).map(Some).unwrap_or(None),
            ),
            None => (e.to_owned(), None),
        })
        .collect()
}

/// Go's `strconv.ParseBool`.
pub fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The value a gate gets from all `--feature-gates` occurrences (later ones win).
pub fn gate_from_flags(args: &[String], gate: &str) -> Option<bool> {
    let mut result = None;
    for o in occurrences(args, FEATURE_GATES_FLAG) {
        for (n, v) in parse_gates(&o.value) {
            if n == gate {
                if let Some(v) = v {
                    result = Some(v);
                }
            }
        }
    }
    result
}

/// Sets `gate=value` inside the last `--feature-gates` occurrence (keeping its other gates),
/// or appends `--feature-gates=gate=value`. Returns whether anything changed.
pub fn set_gate(args: &mut Vec<String>, gate: &str, value: bool) -> bool {
    let occ = occurrences(args, FEATURE_GATES_FLAG);
    let Some(last) = occ.last() else {
        args.push(format!("--{FEATURE_GATES_FLAG}={gate}={value}"));
        return true;
    };
    let raw: Vec<&str> = last
        .value
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let mut entries: Vec<String> = Vec::new();
    let mut found = false;
    for e in raw {
        let name = e.split_once('=').map(|(n, _)| n.trim()).unwrap_or(e);
        if name == gate {
            if !found {
                entries.push(format!("{gate}={value}"));
                found = true;
            }
        } else {
            entries.push(e.to_owned());
        }
    }
    if !found {
        entries.push(format!("{gate}={value}"));
    }
    let new_value = entries.join(",");
    if new_value == last.value {
        return false;
    }
    if last.separate_value {
        args[last.index + 1] = new_value;
    } else {
        args[last.index] = format!("--{FEATURE_GATES_FLAG}={new_value}");
    }
    true
}

/// How a flag file stores flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagFileFormat {
    /// A systemd `EnvironmentFile` variable whose value is the flags, space separated.
    EnvVar(String),
    /// One or more flags per line (`#` comments), as MicroK8s' args files.
    Lines,
}

/// A quoting style of an environment-file value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Double,
    Single,
}

/// Where a variable sits in an environment file.
struct EnvLine {
    line: usize,
    value: String,
    quote: Quote,
}

fn split_lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    text.strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .collect()
}

/// Finds the last assignment of `var` (systemd uses the last one).
fn find_env(text: &str, var: &str) -> Option<EnvLine> {
    let mut found = None;
    for (i, line) in split_lines(text).iter().enumerate() {
        let l = line.trim_start();
        if l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        if k.trim() != var {
            continue;
        }
        let v = v.trim();
        let (value, quote) = if let Some(inner) = v.strip_prefix('"') {
            (
                unescape_double(inner.strip_suffix('"').unwrap_or(inner)),
                Quote::Double,
            )
        } else if let Some(inner) = v.strip_prefix('\'') {
            (
                inner.strip_suffix('\'').unwrap_or(inner).to_owned(),
                Quote::Single,
            )
        } else {
            (v.to_owned(), Quote::None)
        };
        found = Some(EnvLine {
            line: i,
            value,
            quote,
        });
    }
    found
}

fn unescape_double(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The flags a flag file holds (whitespace-split, as systemd splits an unquoted `$VAR`).
pub fn read_flags(bytes: &[u8], format: &FlagFileFormat) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    match format {
        FlagFileFormat::EnvVar(var) => find_env(&text, var)
            .map(|e| e.value.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        FlagFileFormat::Lines => split_lines(&text)
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .flat_map(|l| l.split_whitespace().map(str::to_owned))
            .collect(),
    }
}

/// Rewrites a flag file so it holds `new_flags` (as returned by editing [`read_flags`]'s
/// result), changing only the variable's line (environment files) or only the lines of
/// changed flags (line files). `None` means the file does not exist yet.
pub fn write_flags(
    existing: Option<&[u8]>,
    format: &FlagFileFormat,
    new_flags: &[String],
) -> Vec<u8> {
    let text = existing
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let mut lines: Vec<String> = split_lines(&text).iter().map(|s| (*s).to_owned()).collect();
    match format {
        FlagFileFormat::EnvVar(var) => {
            let joined = new_flags.join(" ");
            match find_env(&text, var) {
                Some(e) => {
                    let indent: String = lines[e.line]
                        .chars()
                        .take_while(|c| c.is_whitespace())
                        .collect();
                    lines[e.line] = format!("{indent}{var}={}", quote_value(&joined, e.quote));
                }
                None => lines.push(format!("{var}={}", quote_value(&joined, Quote::Double))),
            }
        }
        FlagFileFormat::Lines => {
            lines = rewrite_line_file(&lines, new_flags);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out.into_bytes()
}

fn quote_value(v: &str, quote: Quote) -> String {
    let needs_quotes = v.contains(['"', '\'', '\\', '#', '$', '`']);
    match quote {
        Quote::None if !needs_quotes => v.to_owned(),
        Quote::Single if !v.contains('\'') => format!("'{v}'"),
        _ => format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")),
    }
}

/// Keeps each line whose flags are unchanged, rewrites the others one flag per line, and
/// appends new flags at the end.
fn rewrite_line_file(lines: &[String], new_flags: &[String]) -> Vec<String> {
    // Group the wanted flags as `--name[=value]` plus an optional separate value.
    let wanted = group_flags(new_flags);
    let mut used = vec![false; wanted.len()];
    let mut out = Vec::new();
    for line in lines {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            out.push(line.clone());
            continue;
        }
        let tokens: Vec<String> = t.split_whitespace().map(str::to_owned).collect();
        let groups = group_flags(&tokens);
        let mut kept = Vec::new();
        for g in groups {
            if let Some(i) = (0..wanted.len()).find(|&i| !used[i] && wanted[i] == g) {
                used[i] = true;
                kept.push(g.join(" "));
            }
        }
        if kept.len() == group_flags(&tokens).len() {
            out.push(line.clone());
        } else {
            out.extend(kept);
        }
    }
    for (i, g) in wanted.iter().enumerate() {
        if !used[i] {
            out.push(g.join(" "));
        }
    }
    out
}

/// Splits tokens into flags: `--a=b`, `--a b` (when `b` does not start with `-`), `--flag`.
fn group_flags(tokens: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.starts_with("--")
            && !t.contains('=')
            && i + 1 < tokens.len()
            && !tokens[i + 1].starts_with('-')
        {
            out.push(vec![t.clone(), tokens[i + 1].clone()]);
            i += 2;
        } else {
            out.push(vec![t.clone()]);
            i += 1;
        }
    }
    out
}

/// `kubelet-arg` entries of one k3s/RKE2 config file (`kubelet-arg` and `kubelet-arg+`,
/// string or list), as kubelet flags (`--` added).
pub fn k3s_kubelet_args(yaml: &[u8]) -> Result<Vec<String>, serde_yaml_ng::Error> {
    let v: serde_yaml_ng::Value = if yaml.iter().all(|b| b.is_ascii_whitespace()) {
        serde_yaml_ng::Value::Null
    } else {
        serde_yaml_ng::from_slice(yaml)?
    };
    let mut out = Vec::new();
    for key in ["kubelet-arg", "kubelet-arg+"] {
        match v.get(key) {
            Some(serde_yaml_ng::Value::String(s)) => {
                out.push(format!("--{}", s.trim_start_matches('-')))
            }
            Some(serde_yaml_ng::Value::Sequence(seq)) => {
                for item in seq {
                    if let Some(s) = item.as_str() {
                        out.push(format!("--{}", s.trim_start_matches('-')));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A string setting of one k3s/RKE2 config file (e.g. `image-credential-provider-config`).
pub fn k3s_setting(yaml: &[u8], key: &str) -> Result<Option<String>, serde_yaml_ng::Error> {
    if yaml.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(None);
    }
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_slice(yaml)?;
    Ok(v.get(key).and_then(|s| s.as_str()).map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn finds_both_forms() {
        let a = v("--config /x --image-credential-provider-config=/a --image-credential-provider-config /b");
        assert_eq!(last_value(&a, CONFIG_FLAG).as_deref(), Some("/b"));
        assert_eq!(last_value(&a, KUBELET_CONFIG_FLAG).as_deref(), Some("/x"));
        assert_eq!(occurrences(&a, CONFIG_FLAG).len(), 2);
    }

    #[test]
    fn set_flag_leaves_one() {
        let mut a = v("--v=2 --image-credential-provider-config /a --x=1 --image-credential-provider-config=/b");
        assert!(set_flag(&mut a, CONFIG_FLAG, "/c"));
        assert_eq!(a, v("--v=2 --image-credential-provider-config=/c --x=1"));
        assert!(!set_flag(&mut a, CONFIG_FLAG, "/c"));
        let mut b = v("--v=2");
        assert!(set_flag(&mut b, BIN_DIR_FLAG, "/bin"));
        assert_eq!(b, v("--v=2 --image-credential-provider-bin-dir=/bin"));
    }

    #[test]
    fn gates_merge() {
        let mut a =
            v("--feature-gates=A=true,KubeletServiceAccountTokenForCredentialProviders=false");
        assert_eq!(
            gate_from_flags(&a, "KubeletServiceAccountTokenForCredentialProviders"),
            Some(false)
        );
        assert!(set_gate(
            &mut a,
            "KubeletServiceAccountTokenForCredentialProviders",
            true
        ));
        assert_eq!(
            a,
            v("--feature-gates=A=true,KubeletServiceAccountTokenForCredentialProviders=true")
        );
        assert!(!set_gate(
            &mut a,
            "KubeletServiceAccountTokenForCredentialProviders",
            true
        ));
        let mut b = v("--v=2");
        assert!(set_gate(&mut b, "G", true));
        assert_eq!(b, v("--v=2 --feature-gates=G=true"));
    }

    #[test]
    fn env_file_keeps_other_lines_and_quoting() {
        let f = FlagFileFormat::EnvVar("KUBELET_EXTRA_ARGS".into());
        let orig = b"# comment\nKUBELET_EXTRA_ARGS=\nOTHER=1\n";
        assert!(read_flags(orig, &f).is_empty());
        let out = write_flags(Some(orig), &f, &v("--a=1 --b=2"));
        assert_eq!(out, b"# comment\nKUBELET_EXTRA_ARGS=--a=1 --b=2\nOTHER=1\n");
        let quoted = b"KUBELET_EXTRA_ARGS=\"--node-ip=10.0.0.1\"\n";
        assert_eq!(read_flags(quoted, &f), v("--node-ip=10.0.0.1"));
        let out = write_flags(Some(quoted), &f, &v("--node-ip=10.0.0.1 --c=3"));
        assert_eq!(out, b"KUBELET_EXTRA_ARGS=\"--node-ip=10.0.0.1 --c=3\"\n");
        let out = write_flags(None, &f, &v("--c=3"));
        assert_eq!(out, b"KUBELET_EXTRA_ARGS=\"--c=3\"\n");
    }

    #[test]
    fn line_file_appends_and_rewrites() {
        let orig = b"--kubeconfig=${SNAP_DATA}/credentials/kubelet.config\n--cert-dir ${SNAP_DATA}/certs\n# c\n--feature-gates=A=true\n";
        let mut flags = read_flags(orig, &FlagFileFormat::Lines);
        assert_eq!(flags.len(), 4);
        set_flag(&mut flags, CONFIG_FLAG, "/x");
        set_gate(&mut flags, "G", true);
        let out = write_flags(Some(orig), &FlagFileFormat::Lines, &flags);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "--kubeconfig=${SNAP_DATA}/credentials/kubelet.config\n--cert-dir ${SNAP_DATA}/certs\n# c\n--feature-gates=A=true,G=true\n--image-credential-provider-config=/x\n"
        );
    }

    fn token() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof![
            proptest::string::string_regex("--[a-z-]{1,12}(=[A-Za-z0-9/.:$\"'#\\\\_,=-]{0,12})?")
                .unwrap(),
            proptest::string::string_regex("[A-Za-z0-9/._-]{1,10}").unwrap(),
            proptest::strategy::Just("--image-credential-provider-config".to_owned()),
            proptest::strategy::Just("--image-credential-provider-config=/old".to_owned()),
            proptest::strategy::Just("--feature-gates=A=true,B=false".to_owned()),
        ]
    }

    proptest::proptest! {
        #[test]
        fn set_flag_leaves_exactly_one(args in proptest::collection::vec(token(), 0..12)) {
            let mut a = args.clone();
            set_flag(&mut a, CONFIG_FLAG, "/new");
            let occ = occurrences(&a, CONFIG_FLAG);
            proptest::prop_assert_eq!(occ.len(), 1);
            proptest::prop_assert_eq!(&occ[0].value, "/new");
            proptest::prop_assert!(!set_flag(&mut a, CONFIG_FLAG, "/new"));
            set_gate(&mut a, "G", true);
            proptest::prop_assert_eq!(gate_from_flags(&a, "G"), Some(true));
        }

        #[test]
        fn env_files_round_trip(args in proptest::collection::vec(token(), 0..12), quoted in proptest::bool::ANY) {
            let f = FlagFileFormat::EnvVar("KUBELET_EXTRA_ARGS".into());
            let orig = if quoted { "X=1\nKUBELET_EXTRA_ARGS=\"--a=1\"\n" } else { "X=1\nKUBELET_EXTRA_ARGS=\n" };
            let out = write_flags(Some(orig.as_bytes()), &f, &args);
            proptest::prop_assert_eq!(read_flags(&out, &f), args.clone());
            proptest::prop_assert!(String::from_utf8(out).unwrap().starts_with("X=1\n"));
            let lines = write_flags(Some(b"# c\n--v=2\n"), &FlagFileFormat::Lines, &args);
            proptest::prop_assert_eq!(read_flags(&lines, &FlagFileFormat::Lines), args);
        }
    }

    #[test]
    fn k3s_args() {
        let y = b"write-kubeconfig-mode: \"0644\"\nkubelet-arg:\n  - \"max-pods=200\"\n  - feature-gates=A=true\n";
        assert_eq!(
            k3s_kubelet_args(y).unwrap(),
            v("--max-pods=200 --feature-gates=A=true")
        );
        assert_eq!(
            k3s_kubelet_args(b"kubelet-arg+: \"v=2\"\n").unwrap(),
            v("--v=2")
        );
        assert!(k3s_kubelet_args(b"").unwrap().is_empty());
        assert_eq!(
            k3s_setting(
                b"image-credential-provider-config: /x.yaml\n",
                "image-credential-provider-config"
            )
            .unwrap()
            .as_deref(),
            Some("/x.yaml")
        );
    }
}
