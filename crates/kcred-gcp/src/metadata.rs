//! The GCE metadata server: the node service account's token and email, and the
//! `google-dockercfg` / `google-dockercfg-url` instance attributes.

use std::time::Duration;

use kcred_api::Secret;
use serde::Deserialize;
use thiserror::Error;

use crate::http::{redact_url, HttpClient, HttpError};

/// Upstream's metadata base URL (the host has a trailing dot: a fully qualified name, so
/// resolver search domains are never tried).
pub(crate) const DEFAULT_METADATA_URL: &str =
    "http://metadata.google.internal./computeMetadata/v1/";
/// Path of the default service account's OAuth access token.
pub(crate) const TOKEN_PATH: &str = "instance/service-accounts/default/token";
/// Path of the default service account's email.
pub(crate) const EMAIL_PATH: &str = "instance/service-accounts/default/email";
/// Path of the `google-dockercfg` attribute.
pub(crate) const DOCKERCFG_PATH: &str = "instance/attributes/google-dockercfg";
/// Path of the `google-dockercfg-url` attribute.
pub(crate) const DOCKERCFG_URL_PATH: &str = "instance/attributes/google-dockercfg-url";
/// `User-Agent` upstream sends to the metadata server and STS.
pub(crate) const USER_AGENT: &str = "GKE auth-provider-gcp image pull";
/// Headers upstream sends to the metadata server.
pub(crate) const METADATA_HEADERS: [(&str, &str); 2] =
    [("Metadata-Flavor", "Google"), ("User-Agent", USER_AGENT)];
/// Upstream's metadata timeout.
pub(crate) const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// An OAuth access token and, when the issuer said, how long it stays valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The token (redacted in `Debug`).
    pub token: Secret,
    /// Remaining lifetime when issued (`expires_in`), if known.
    pub expires_in: Option<Duration>,
}

/// A failed read of a URL (upstream `ReadURL`).
#[derive(Debug, Error)]
pub enum ReadUrlError {
    /// No response, or the body could not be read.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// Upstream `HTTPError`.
    #[error("http status code: {status} while fetching url {url}")]
    Status {
        /// The status code.
        status: u16,
        /// The URL.
        url: String,
    },
}

impl ReadUrlError {
    /// The same error with the URL's query string and fragment hidden.
    pub fn redacted(self) -> Self {
        match self {
            ReadUrlError::Http(e) => ReadUrlError::Http(e.redacted()),
            ReadUrlError::Status { status, url } => ReadUrlError::Status {
                status,
                url: redact_url(&url),
            },
        }
    }
}

/// Upstream `ReadURL`: `GET url` with `headers`; anything but 200 is an error.
pub fn read_url(
    http: &HttpClient,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Vec<u8>, ReadUrlError> {
    let resp = http.get(url, headers)?;
    if resp.status != 200 {
        return Err(ReadUrlError::Status {
            status: resp.status,
            url: url.to_owned(),
        });
    }
    Ok(resp.body)
}

/// Why a token response was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenParseError {
    /// Not JSON of the expected shape (position only: the body holds a secret).
    #[error("token response is not valid JSON (line {line}, column {column})")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// `access_token` missing or empty.
    #[error("token response has no access_token")]
    Empty,
}

#[derive(Deserialize)]
struct TokenBlob {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<f64>,
}

/// Converts an `expires_in` number of seconds into a lifetime (negative or absurd → none).
pub(crate) fn lifetime_from_secs(secs: Option<f64>) -> Option<Duration> {
    let secs = secs?;
    (0.0..1e12)
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}

/// Parses `{"access_token": "...", "expires_in": N, ...}` (metadata and STS shape).
pub fn parse_token_response(body: &[u8]) -> Result<AccessToken, TokenParseError> {
    let blob: TokenBlob = serde_json::from_slice(body).map_err(|e| TokenParseError::Json {
        line: e.line(),
        column: e.column(),
    })?;
    let token = blob
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or(TokenParseError::Empty)?;
    Ok(AccessToken {
        token: Secret::new(token),
        expires_in: lifetime_from_secs(blob.expires_in),
    })
}

/// Errors talking to the metadata server.
#[derive(Debug, Error)]
pub enum MetadataError {
    /// A read failed.
    #[error("while reading {what}: {source}")]
    Read {
        /// What was read (`access token endpoint`, `email endpoint`, `'google-dockercfg' metadata`, ...).
        what: &'static str,
        /// Why.
        source: ReadUrlError,
    },
    /// The token endpoint answered something unusable.
    #[error("while parsing the access token endpoint's response: {0}")]
    Token(#[from] TokenParseError),
}

/// A metadata server at a base URL (ending in `/`).
#[derive(Debug)]
pub(crate) struct MetadataClient<'a> {
    base: &'a str,
    http: &'a HttpClient,
}

impl<'a> MetadataClient<'a> {
    /// A client for `base` (e.g. [`DEFAULT_METADATA_URL`]).
    pub(crate) fn new(base: &'a str, http: &'a HttpClient) -> Self {
        MetadataClient { base, http }
    }

    /// The full URL of a metadata path.
    pub(crate) fn url(&self, path: &str) -> String {
        if self.base.ends_with('/') {
            format!("{}{}", self.base, path)
        } else {
            format!("{}/{}", self.base, path)
        }
    }

    /// Reads one metadata value with upstream's headers.
    pub(crate) fn read(&self, path: &str, what: &'static str) -> Result<Vec<u8>, MetadataError> {
        read_url(self.http, &self.url(path), &METADATA_HEADERS)
            .map_err(|source| MetadataError::Read { what, source })
    }

    /// The default service account's token; like upstream, the email endpoint must answer
    /// 200 as well (it is read after the token).
    pub(crate) fn node_service_account_token(&self) -> Result<AccessToken, MetadataError> {
        let blob = self.read(TOKEN_PATH, "access token endpoint")?;
        self.read(EMAIL_PATH, "email endpoint")?;
        Ok(parse_token_response(&blob)?)
    }
}
