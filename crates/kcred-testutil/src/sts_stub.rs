//! AWS STS `AssumeRoleWithWebIdentity` that really verifies the web identity token, in front of
//! moto (whose STS accepts any token): IAM's OIDC identity providers and role trust policies
//! are modelled; a token that passes is forwarded to moto, so the credentials returned are
//! moto's assumed-role keys for the role's account (usable with moto's ECR).
//!
//! Wire format: the AWS query protocol as the SDKs send it (`POST /`, form
//! `Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=…&RoleSessionName=…&WebIdentityToken=…`),
//! answered with moto's XML on success and STS's `ErrorResponse` XML on failure:
//! `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>
//! <Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`.
//!
//! Checks, in order, with the codes and messages STS answers (AWS STS API reference,
//! `AssumeRoleWithWebIdentity` errors): malformed JWT → `InvalidIdentityToken`; no IAM OIDC
//! provider for `iss` → `InvalidIdentityToken` ("No OpenIDConnect provider found in your
//! account for …"); `aud` not among the provider's client IDs → `InvalidIdentityToken`
//! ("Incorrect token audience"); issuer documents unreachable or unusable →
//! `InvalidIdentityToken` ("Couldn't retrieve verification key from your identity provider");
//! a bad signature or unknown `kid` → `InvalidIdentityToken`; `exp` passed →
//! `ExpiredTokenException`; the role's trust policy (federated principal = the provider,
//! `StringEquals` on `<issuer>:aud` and `<issuer>:sub`) not satisfied → `AccessDenied`
//! (HTTP 403).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use kcred_oidc::fetch::Fetcher;
use kcred_oidc::verify::check_documents;
use kcred_oidc::Jwt;

use crate::http_stub::{StubRequest, StubResponse};
use crate::oidc_idp::now;

/// An IAM OIDC identity provider (`aws iam create-open-id-connect-provider`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamOidcProvider {
    /// The issuer URL (`https://…`).
    pub url: String,
    /// The client ID list: the audiences accepted.
    pub client_ids: Vec<String>,
    /// The account it lives in.
    pub account: String,
}

impl IamOidcProvider {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:oidc-provider/{}",
            self.account,
            self.url
                .trim_start_matches("https://")
                .trim_end_matches('/')
        )
    }
}

/// A role whose trust policy allows `sts:AssumeRoleWithWebIdentity` for one provider with
/// `StringEquals` conditions on `aud` and `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebIdentityRole {
    /// The role ARN.
    pub arn: String,
    /// The trusted provider's ARN (`Principal.Federated`).
    pub provider_arn: String,
    /// `<issuer>:aud` condition.
    pub aud: String,
    /// `<issuer>:sub` condition.
    pub sub: String,
}

/// The STS stub.
#[derive(Debug)]
pub struct StsStub {
    providers: Vec<IamOidcProvider>,
    roles: Vec<WebIdentityRole>,
    ca_file: Option<PathBuf>,
    moto: String,
    errors: Mutex<Vec<String>>,
}

impl StsStub {
    /// STS for `providers` and `roles`, fetching issuers with `ca_file` trusted, forwarding
    /// accepted requests to moto at `moto_endpoint` (`http://127.0.0.1:PORT`).
    pub fn new(
        providers: Vec<IamOidcProvider>,
        roles: Vec<WebIdentityRole>,
        ca_file: Option<PathBuf>,
        moto_endpoint: &str,
    ) -> StsStub {
        StsStub {
            providers,
            roles,
            ca_file,
            moto: moto_endpoint.trim_end_matches('/').to_owned(),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// `Code: Message` of every error answered so far.
    pub fn errors(&self) -> Vec<String> {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn error(&self, status: u16, code: &str, message: &str) -> StubResponse {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{code}: {message}"));
        let body = format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>5e1c7a1b-0000-4000-8000-00000000a5a5</RequestId>\n</ErrorResponse>\n",
            xml_escape(message)
        );
        StubResponse {
            status,
            headers: vec![("Content-Type".to_owned(), "text/xml".to_owned())],
            body: body.into_bytes(),
            delay: std::time::Duration::ZERO,
        }
    }

    /// Handles one request.
    pub fn handle(&self, req: &StubRequest) -> StubResponse {
        if req.method != "POST"
            || req.param("Action").as_deref() != Some("AssumeRoleWithWebIdentity")
        {
            return self.error(400, "InvalidAction", "Could not find operation");
        }
        let role_arn = req.param("RoleArn").unwrap_or_default();
        let token = req.param("WebIdentityToken").unwrap_or_default();
        let invalid = |m: &str| self.error(400, "InvalidIdentityToken", m);
        let Ok(jwt) = Jwt::parse("WebIdentityToken", &token) else {
            return invalid("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)");
        };
        let iss = jwt.claim_str("iss").unwrap_or("").to_owned();
        let Some(provider) = self.providers.iter().find(|p| p.url == iss) else {
            return invalid(&format!(
                "No OpenIDConnect provider found in your account for {iss}"
            ));
        };
        let auds = jwt.audiences();
        if !provider.client_ids.iter().any(|c| auds.contains(c)) {
            return invalid("Incorrect token audience");
        }
        let view = match Fetcher::new(self.ca_file.as_deref()).and_then(|f| f.issuer_view(&iss)) {
            Ok(v) if !check_documents(&v).failed() => v,
            _ => return invalid("Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"),
        };
        let kid = jwt.kid().unwrap_or("");
        let verified = view
            .keys
            .iter()
            .filter(|k| k.kid.as_deref() == Some(kid))
            .any(|k| {
                k.key
                    .as_ref()
                    .is_ok_and(|key| jwt.verify_signature(key).is_ok())
            });
        if !verified {
            return invalid("The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.");
        }
        let t = now();
        let exp = jwt.claim_time("exp").unwrap_or(0);
        if t >= exp {
            return self.error(400, "ExpiredTokenException", &format!("Token expired: current date/time {t} must be before the expiration date/time{exp}"));
        }
        let sub = jwt.claim_str("sub").unwrap_or("");
        let trusted = self.roles.iter().any(|r| {
            r.arn == role_arn
                && r.provider_arn == provider.arn()
                && auds.contains(&r.aud)
                && r.sub == sub
        });
        if !trusted {
            return self.error(
                403,
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            );
        }
        match forward(&self.moto, &req.body) {
            Ok(resp) => resp,
            Err(e) => self.error(500, "InternalFailure", &format!("moto: {e}")),
        }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// POSTs `body` (a form) to moto's `/` and returns its response.
fn forward(endpoint: &str, body: &[u8]) -> std::io::Result<StubResponse> {
    let hostport = endpoint.trim_start_matches("http://");
    let mut s = TcpStream::connect(hostport)?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no response head"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(502);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let mut body = raw[split + 4..].to_vec();
    if chunked {
        body = dechunk(&body);
    }
    Ok(StubResponse {
        status,
        headers: vec![("Content-Type".to_owned(), "text/xml".to_owned())],
        body,
        delay: std::time::Duration::ZERO,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}
