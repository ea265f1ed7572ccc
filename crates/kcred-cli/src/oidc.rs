//! `kcred oidc discovery` and `kcred oidc check`: the issuer half of keyless pulls on a
//! self-managed cluster (see docs/workload-identity.md). Thin glue over `kcred-oidc`.
//!
//! - `discovery --issuer URL --key sa.pub [--key old.pub…] --out DIR` writes
//!   `DIR/.well-known/openid-configuration` and the JWKS (at the path of `--jwks-uri` below
//!   the issuer, default `openid/v1/jwks`) byte for byte as kube-apiserver serves them.
//!   Keys are public keys only: a private key is refused (never read further, never printed).
//!   Nothing is written unless every input is valid.
//! - `check --issuer URL [--token FILE --audience A --subject S]` fetches the live documents
//!   over HTTPS and verifies them, and the token, as Entra ID / AWS STS / Google STS would;
//!   exit 0 when everything passes, 1 when a check fails, 2 on bad input or an unreachable
//!   issuer. The token's signature is never printed.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use kcred_oidc::discovery::{default_jwks_uri, discovery_url, relative_path, OPENID_CONFIG_PATH};
use kcred_oidc::fetch::Fetcher;
use kcred_oidc::verify::{rfc3339, DEFAULT_SKEW_SECS};
use kcred_oidc::{
    check_documents, check_token, issuer_documents, parse_public_keys_pem, Cloud, Jwt,
    TokenExpectations,
};

use crate::output::Exit;

/// Arguments of `kcred oidc`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: OidcCommand,
}

#[derive(Debug, clap::Subcommand)]
enum OidcCommand {
    /// Write the issuer's discovery document and JWKS exactly as kube-apiserver serves them.
    Discovery(DiscoveryArgs),
    /// Fetch a live issuer and check it (and optionally a token) as a cloud IdP would.
    Check(CheckArgs),
}

/// Arguments of `kcred oidc discovery`.
#[derive(Debug, clap::Args)]
struct DiscoveryArgs {
    /// The issuer URL (https, no query or fragment): kube-apiserver's --service-account-issuer.
    #[arg(long, value_name = "URL")]
    issuer: String,
    /// A PEM public key file (PUBLIC KEY or RSA PUBLIC KEY); repeat for rotation (current key
    /// first, then the previous one). Private keys are refused.
    #[arg(long = "key", value_name = "FILE", required = true)]
    keys: Vec<PathBuf>,
    /// The JWKS URL (kube-apiserver's --service-account-jwks-uri); default ISSUER/openid/v1/jwks.
    #[arg(long, value_name = "URL")]
    jwks_uri: Option<String>,
    /// Output directory; it mirrors the issuer's path (upload its contents to the issuer).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Arguments of `kcred oidc check`.
#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The issuer URL the cloud trusts (exactly as configured there).
    #[arg(long, value_name = "URL")]
    issuer: String,
    /// A service-account token to verify (file, or - for stdin), e.g. from
    /// `kubectl create token SA --audience AUD`.
    #[arg(long, value_name = "FILE")]
    token: Option<PathBuf>,
    /// The audience the cloud expects (api://AzureADTokenExchange, sts.amazonaws.com, …).
    #[arg(long, value_name = "AUD", requires = "token")]
    audience: Option<String>,
    /// The exact subject the cloud's trust names (system:serviceaccount:NS:NAME).
    #[arg(long, value_name = "SUB", requires = "token")]
    subject: Option<String>,
    /// An extra CA certificate file (PEM) to trust besides the system roots and SSL_CERT_FILE.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Allowed clock skew in seconds for exp/nbf/iat.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_SKEW_SECS)]
    skew: i64,
}

/// Runs `kcred oidc …`.
pub(crate) fn run(args: &Args) -> anyhow::Result<Exit> {
    match &args.command {
        OidcCommand::Discovery(a) => discovery(a),
        OidcCommand::Check(a) => check(a),
    }
}

fn read_input(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .context("reading stdin")?;
    } else {
        let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
        if !meta.is_file() {
            bail!("{}: not a regular file", path.display());
        }
        std::fs::File::open(path)
            .and_then(|f| f.take(limit + 1).read_to_end(&mut buf))
            .with_context(|| format!("{}", path.display()))?;
    }
    if buf.len() as u64 > limit {
        bail!("{}: larger than {limit} bytes", path.display());
    }
    Ok(buf)
}

fn discovery(a: &DiscoveryArgs) -> anyhow::Result<Exit> {
    let mut keys = Vec::new();
    for path in &a.keys {
        let name = path.display().to_string();
        let pem = read_input(path, 1024 * 1024)?;
        for key in parse_public_keys_pem(&name, &pem)? {
            keys.push((name.clone(), key));
        }
    }
    let jwks_uri = a
        .jwks_uri
        .clone()
        .unwrap_or_else(|| default_jwks_uri(&a.issuer));
    let docs = issuer_documents(&a.issuer, &jwks_uri, &keys)?;
    let config_rel = OPENID_CONFIG_PATH.trim_start_matches('/');
    let (jwks_rel, jwks_elsewhere) = match relative_path(&a.issuer, &jwks_uri) {
        Some(rel) => (rel, false),
        None => ("jwks.json".to_owned(), true),
    };
    if jwks_rel == config_rel {
        bail!("--jwks-uri {jwks_uri:?} is the discovery document's own URL");
    }
    for (rel, body) in [
        (config_rel, &docs.openid_configuration),
        (jwks_rel.as_str(), &docs.jwks),
    ] {
        let path = a.out.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
    }
    outln!(
        "wrote {} -> {}",
        a.out.join(config_rel).display(),
        discovery_url(&a.issuer)
    );
    if jwks_elsewhere {
        outln!(
            "wrote {} -> upload it so that it is served at {jwks_uri}",
            a.out.join(&jwks_rel).display()
        );
    } else {
        outln!("wrote {} -> {jwks_uri}", a.out.join(&jwks_rel).display());
    }
    for (src, key) in &keys {
        outln!(
            "key {} {} {} (from {src})",
            key.key_id(),
            key.describe(),
            key.algorithm()
        );
    }
    outln!(
        "kube-apiserver: --service-account-issuer={} --service-account-jwks-uri={jwks_uri}",
        a.issuer
    );
    Ok(Exit::Yes)
}

fn check(a: &CheckArgs) -> anyhow::Result<Exit> {
    kcred_oidc::discovery::check_https_url("issuer", &a.issuer)?;
    // Parse the token before any network call: bad input is reported as such.
    let token = match &a.token {
        Some(path) => {
            let name = path.display().to_string();
            let bytes = read_input(path, kcred_oidc::jwt::MAX_TOKEN_BYTES as u64)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("{name}: not a JWT: not UTF-8 text"))?;
            Some(Jwt::parse(&name, &text)?)
        }
        None => None,
    };
    let fetcher = Fetcher::new(a.ca_file.as_deref())?;
    let view = fetcher
        .issuer_view(&a.issuer)
        .with_context(|| format!("issuer {}", a.issuer))?;
    outln!("issuer {}", a.issuer);
    let docs = check_documents(&view);
    out!("{}", docs.render_findings());
    let mut failed = docs.failed();
    if let Some(token) = &token {
        let now = kcred_now();
        let want = TokenExpectations {
            audience: a.audience.clone(),
            subject: a.subject.clone(),
            now,
            skew_secs: a.skew,
        };
        outln!("token (checked at {})", rfc3339(now));
        let report = check_token(&view, token, &want);
        failed |= report.failed();
        let mut all = docs.clone();
        all.findings.extend(report.findings.iter().cloned());
        out!("{}", report.render_findings());
        outln!("verdict");
        out!("{}", all.render_verdicts(&Cloud::ALL));
    } else {
        outln!("verdict (documents only; give --token to check a token)");
        out!("{}", docs.render_verdicts(&Cloud::ALL));
    }
    Ok(if failed { Exit::No } else { Exit::Yes })
}

fn kcred_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
