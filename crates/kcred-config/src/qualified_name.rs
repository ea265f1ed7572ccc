//! apimachinery's `validation.IsQualifiedName` and `IsDNS1123Subdomain`, with their messages
//! (the 1.34-era texts: "a qualified name must consist of ...").

/// The regular expression apimachinery quotes for the name part.
pub const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
/// The regular expression apimachinery quotes for a DNS-1123 subdomain.
pub const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_MAX_LEN: usize = 63;
const DNS1123_SUBDOMAIN_MAX_LEN: usize = 253;

/// `validation.RegexError(msg, fmt, examples...)`.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push('\'');
        s.push_str(e);
        s.push_str("', ");
    }
    s.push_str("regex used for validation is '");
    s.push_str(fmt);
    s.push_str("')");
    s
}

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`
fn matches_qualified_name(name: &str) -> bool {
    let b = name.as_bytes();
    match b {
        [] => false,
        [only] => is_alnum(*only),
        [first, middle @ .., last] => {
            is_alnum(*first)
                && is_alnum(*last)
                && middle
                    .iter()
                    .all(|&c| is_alnum(c) || matches!(c, b'-' | b'_' | b'.'))
        }
    }
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
fn matches_dns1123_label(label: &[u8]) -> bool {
    let lower_alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match label {
        [] => false,
        [only] => lower_alnum(*only),
        [first, middle @ .., last] => {
            lower_alnum(*first)
                && lower_alnum(*last)
                && middle.iter().all(|&c| lower_alnum(c) || c == b'-')
        }
    }
}

/// `^<label>(\.<label>)*$`
fn matches_dns1123_subdomain(value: &str) -> bool {
    value
        .as_bytes()
        .split(|&c| c == b'.')
        .all(matches_dns1123_label)
}

/// `validation.IsDNS1123Subdomain`: the list of problems, empty when valid.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LEN {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LEN));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `validation.IsQualifiedName`: the list of problems, empty when valid.
///
/// An optional DNS-1123-subdomain prefix and `/`, then a name of at most 63 characters
/// matching [`QUALIFIED_NAME_FMT`]. Lengths are in bytes, as Go's `len`.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_owned());
            } else {
                errs.extend(
                    is_dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if name.len() > QUALIFIED_NAME_MAX_LEN {
        errs.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_LEN)
        ));
    }
    if !matches_qualified_name(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    #[test]
    fn valid_names() {
        for ok in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "1234",
            "simple/simple",
            "now-with-dashes/simple",
            "now-with-dashes/now-with-dashes",
            "now.with.dots/simple",
            "now-with.dashes-and.dots/simple",
            "1-num.2-num/3-num",
            "1234/5678",
            "1.2.3.4/5678",
            "Uppercase_Is_OK_123",
            "example.com/Uppercase_Is_OK_123",
            "requests.storage-foo",
        ] {
            assert!(
                is_qualified_name(ok).is_empty(),
                "{ok}: {:?}",
                is_qualified_name(ok)
            );
        }
        let max_name = "a".repeat(63);
        assert!(is_qualified_name(&max_name).is_empty());
        let max_prefix = format!("{}/{}", "a".repeat(253), "b");
        assert!(is_qualified_name(&max_prefix).is_empty());
    }

    #[test]
    fn name_part_message_is_exact() {
        assert_eq!(
            is_qualified_name("cantendwithadash-"),
            vec![NAME_PART_MSG.to_owned()]
        );
        assert_eq!(
            is_qualified_name("nospecialchars%^=@"),
            vec![NAME_PART_MSG.to_owned()]
        );
    }

    #[test]
    fn too_many_slashes() {
        assert_eq!(
            is_qualified_name("only/one/slash"),
            vec!["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_owned()]
        );
    }

    #[test]
    fn prefix_and_length_messages() {
        assert_eq!(
            is_qualified_name("/simple"),
            vec!["prefix part must be non-empty".to_owned()]
        );
        assert_eq!(
            is_qualified_name("Example.com/simple"),
            vec!["prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_owned()]
        );
        let long_prefix = format!("{}/a", "a".repeat(254));
        assert_eq!(
            is_qualified_name(&long_prefix),
            vec!["prefix part must be no more than 253 characters".to_owned()]
        );
        assert_eq!(
            is_qualified_name(&"a".repeat(64)),
            vec!["name part must be no more than 63 characters".to_owned()]
        );
        assert_eq!(
            is_qualified_name("example.com/"),
            vec![
                "name part must be non-empty".to_owned(),
                NAME_PART_MSG.to_owned()
            ]
        );
        assert_eq!(
            is_qualified_name(""),
            vec![
                "name part must be non-empty".to_owned(),
                NAME_PART_MSG.to_owned()
            ]
        );
    }

    /// Validation lowercases with [`kcred_api::gostr::to_lower`], Go's simple one-to-one
    /// mapping, so byte-length limits see what the kubelet sees.
    #[test]
    fn go_lowercase_is_simple_mapping() {
        use kcred_api::gostr::to_lower;
        assert_eq!(to_lower("ABC-İ"), "abc-i");
        assert_eq!(to_lower("ΣΑΣ"), "σασ");
    }
}
