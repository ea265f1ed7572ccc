//! The Go standard-library and Kubernetes-library semantics kcred reproduces, in one place.
//!
//! The kubelet and the upstream credential plugins are Go programs; kcred prints the same
//! bytes and accepts the same inputs. Every kcred crate takes Go behaviour from here rather
//! than writing its own copy.
//!
//! | Go                                                     | here                               |
//! |--------------------------------------------------------|------------------------------------|
//! | `time.ParseDuration`, `Duration.String`                | [`time::Duration`]                 |
//! | `strconv.Quote`, `%q`                                  | [`strconv::quote`]                 |
//! | `strconv.ParseBool`                                    | [`strconv::parse_bool`]            |
//! | `encoding/json` reader (syntax errors, U+FFFD)         | [`json::parse`], [`json::Value`]   |
//! | `encoding/json` field-name folding (`foldName`)        | [`json::equal_fold`], [`json::field_index`] |
//! | `encoding/json` string encoding                        | [`json::string`]                   |
//! | `*json.UnmarshalTypeError`                             | [`json::UnmarshalTypeError`]       |
//! | `json.Unmarshal` / non-strict codec of a request       | [`lenient`]                        |
//! | apimachinery strict decoding (`sigs.k8s.io/json`)      | [`strict`]                         |
//! | `sigs.k8s.io/yaml` (go-yaml v2) YAML → JSON            | [`yaml::to_json`]                  |
//! | `syscall.Errno.Error()`, `*os.PathError`               | [`os::errno_text`], [`os::PathError`] |
//! | `unicode.ToLower`, `utf8.DecodeRune`                   | [`unicode`]                        |
//!
//! The implementations live in the crate's older modules ([`crate::duration`],
//! [`crate::gostr`], [`crate::strict`], and the private JSON and YAML readers); this tree is
//! the public face that names them by their Go package.

pub mod json;
pub mod lenient;
pub mod os;
pub mod strconv;
pub mod yaml;

/// Go package `time`: `time.Duration` parsing and printing, and `time`'s own quoting.
pub mod time {
    pub use crate::duration::{DurationError, GoDuration as Duration};
    pub use crate::gostr::time_quote as quote;
}

/// apimachinery's strict decoding (`sigs.k8s.io/json` strict mode), the kubelet's decoder.
pub mod strict {
    pub use crate::strict::*;
}

/// Go packages `unicode` and `unicode/utf8` as kcred needs them.
pub mod unicode {
    pub use crate::gostr::{decode_rune, has_upper, is_print, to_lower, to_lower_rune, RUNE_ERROR};
}
