//! The pod a `kcred get` pull is for: its namespace, name and UID, its service account and
//! where that account's bound token comes from (KEP-4412 service-account token mode).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use kcred_api::Secret;
use kcred_host::service_account::{TokenError, TokenFuture, TokenRequest};
use kcred_host::{PodContext, ServiceAccount, ServiceAccountTokenSource, StaticTokenSource};

/// The pod and service-account flags of `kcred get`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PodArgs {
    /// Namespace of the pod (and so of its service account).
    #[arg(long, value_name = "NS", default_value = "default")]
    pub namespace: String,
    /// Name of the pod (used only in messages and the token's binding).
    #[arg(long, value_name = "NAME", default_value = "kcred-get")]
    pub pod_name: String,
    /// UID of the pod (used only in the token's binding).
    #[arg(long, value_name = "UID", default_value = "")]
    pub pod_uid: String,
    /// The pod's service account (spec.serviceAccountName). Without it, providers in
    /// service-account token mode run without a token, or fail if they require one.
    #[arg(long, value_name = "NAME")]
    pub service_account: Option<String>,
    /// UID of the service account (part of the kubelet's cache key).
    #[arg(
        long,
        value_name = "UID",
        requires = "service_account",
        default_value = ""
    )]
    pub service_account_uid: String,
    /// An annotation of the service account, KEY=VALUE (repeatable).
    #[arg(
        long = "annotation",
        value_name = "KEY=VALUE",
        requires = "service_account"
    )]
    pub annotations: Vec<String>,
    /// File holding the service account's bound token ('-' = stdin; one trailing newline is
    /// dropped), as the kubelet would get from a TokenRequest for the provider's audience.
    #[arg(long, value_name = "FILE|-", requires = "service_account")]
    pub service_account_token: Option<PathBuf>,
}

/// The pod described by the flags.
pub(super) fn pod_context(args: &PodArgs) -> anyhow::Result<PodContext> {
    let pod = PodContext::new(&args.namespace, &args.pod_name, &args.pod_uid);
    let Some(name) = &args.service_account else {
        return Ok(pod);
    };
    Ok(pod.with_service_account(ServiceAccount {
        name: name.clone(),
        uid: args.service_account_uid.clone(),
        annotations: parse_annotations(&args.annotations)?,
    }))
}

/// `KEY=VALUE` pairs; a key given twice is an error.
fn parse_annotations(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut annotations = BTreeMap::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            anyhow::bail!("invalid --annotation {pair:?}: want KEY=VALUE");
        };
        if key.is_empty() {
            anyhow::bail!("invalid --annotation {pair:?}: the key is empty");
        }
        if annotations
            .insert(key.to_owned(), value.to_owned())
            .is_some()
        {
            anyhow::bail!("--annotation {key:?} is given more than once");
        }
    }
    Ok(annotations)
}

/// Where tokens come from: the `--service-account-token` file, or a source that explains
/// how to give one.
pub(super) fn token_source(args: &PodArgs) -> anyhow::Result<Arc<dyn ServiceAccountTokenSource>> {
    match &args.service_account_token {
        Some(path) => Ok(Arc::new(StaticTokenSource::new(read_token(path)?))),
        None => Ok(Arc::new(NoTokenGiven)),
    }
}

/// The largest token accepted (bound tokens are a few KiB; a plugin request, which carries
/// the token, may not exceed 1 MiB anyway).
const MAX_TOKEN_BYTES: u64 = 1024 * 1024;

/// Reads a token file (or stdin for `-`), dropping one trailing `\n` or `\r\n`.
fn read_token(path: &PathBuf) -> anyhow::Result<Secret> {
    let mut text = String::new();
    let source = if path.as_os_str() == "-" {
        "from stdin".to_owned()
    } else {
        format!("file {}", path.display())
    };
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_TOKEN_BYTES + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_TOKEN_BYTES + 1).read_to_string(&mut text))
    };
    read.with_context(|| format!("cannot read the service account token {source}"))?;
    if text.len() as u64 > MAX_TOKEN_BYTES {
        anyhow::bail!(
            "--service-account-token: the token {source} is larger than {MAX_TOKEN_BYTES} bytes"
        );
    }
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(Secret::new(text))
}

/// The token source when no `--service-account-token` is given.
#[derive(Debug, Clone, Copy)]
struct NoTokenGiven;

impl ServiceAccountTokenSource for NoTokenGiven {
    fn token<'a>(&'a self, _request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(async {
            Err(TokenError(
                "no token given: pass --service-account-token FILE (or - for stdin)".to_owned(),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_parse_and_reject_bad_pairs() {
        let parsed = parse_annotations(&["a.io/role=puller".to_owned(), "b=".to_owned()]).unwrap();
        assert_eq!(parsed.get("a.io/role").map(String::as_str), Some("puller"));
        assert_eq!(parsed.get("b").map(String::as_str), Some(""));
        assert!(parse_annotations(&["novalue".to_owned()]).is_err());
        assert!(parse_annotations(&["=v".to_owned()]).is_err());
        assert!(parse_annotations(&["k=1".to_owned(), "k=2".to_owned()]).is_err());
    }

    #[test]
    fn token_file_drops_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abc\r\n").unwrap();
        assert_eq!(read_token(&path).unwrap().expose(), "abc");
        std::fs::write(&path, "abc\n\n").unwrap();
        assert_eq!(read_token(&path).unwrap().expose(), "abc\n");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(read_token(&path).unwrap().expose(), "abc");
        assert!(read_token(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn token_file_size_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let huge = "a".repeat(usize::try_from(MAX_TOKEN_BYTES).unwrap() + 1);
        std::fs::write(&path, &huge).unwrap();
        let err = read_token(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "--service-account-token: the token file {} is larger than 1048576 bytes",
                path.display()
            )
        );
        std::fs::write(&path, &huge[1..]).unwrap();
        assert_eq!(read_token(&path).unwrap().expose().len(), huge.len() - 1);
    }
}
