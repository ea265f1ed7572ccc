//! Reading a kubeconfig the way client-go's `clientcmd` does, for `kcred doctor`'s RBAC
//! check: `clusters`/`users`/`contexts`/`current-context` (k8s.io/client-go
//! `tools/clientcmd/api/v1/types.go`), file references resolved against the kubeconfig's
//! own directory (`clientcmd.ResolveLocalPaths`), `*-data` fields winning over the file
//! fields (`clientcmd.validateClusterInfo` / `validateAuthInfo`: "… will override").
//!
//! What doctor cannot use is reported, not worked around: `exec` and `auth-provider` users
//! (doctor runs no credential plugins), basic auth (removed from kube-apiserver in 1.19),
//! `insecure-skip-tls-verify` (doctor trusts only the kubeconfig's CA, so it refuses to talk
//! to an unverified server) and a cluster without a CA.
//!
//! Errors name the file and the field (`users[0].user.client-key-data`), never a value: the
//! YAML is walked by hand rather than through a derived deserializer, whose messages may
//! quote the offending value (a token in the wrong place). [`Credentials`]' `Debug` redacts
//! the token and the key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_yaml_ng::Value;

use crate::fs::{join, normalize, parent_of, NodeFiles};

/// Why a kubeconfig cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KubeconfigError {
    /// The file (or a file it names) cannot be read.
    #[error("{file}: {field}: cannot read {path}: {reason}")]
    Read {
        /// The kubeconfig.
        file: String,
        /// The field naming the file (`-` for the kubeconfig itself).
        field: String,
        /// The file that could not be read.
        path: String,
        /// Why.
        reason: String,
    },
    /// The kubeconfig does not exist.
    #[error("{file}: no such file")]
    Missing {
        /// The kubeconfig.
        file: String,
    },
    /// Not YAML, or a field has the wrong shape or value.
    #[error("{file}: {field}: {problem}")]
    Invalid {
        /// The kubeconfig.
        file: String,
        /// The field (`clusters[0].cluster.server`), or `-` for the document.
        field: String,
        /// What is wrong (never the value).
        problem: String,
    },
    /// Valid, but doctor will not use it (exec, auth-provider, basic auth, no CA,
    /// insecure-skip-tls-verify).
    #[error("{file}: {field}: {reason}")]
    Unusable {
        /// The kubeconfig.
        file: String,
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
}

impl KubeconfigError {
    /// Whether the kubeconfig is well-formed but not usable by doctor (a warning, not a
    /// broken file).
    pub fn is_unusable(&self) -> bool {
        matches!(self, KubeconfigError::Unusable { .. })
    }
}

/// How the client authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// A client certificate chain and its key (PEM).
    Certificate {
        /// The certificate chain (PEM).
        cert_pem: Vec<u8>,
        /// The private key (PEM). Never printed.
        key_pem: Vec<u8>,
    },
    /// A bearer token. Never printed.
    Token(String),
    /// A client certificate and a bearer token (client-go sends both; the API server's
    /// x509 authenticator answers first).
    Both {
        /// The certificate chain (PEM).
        cert_pem: Vec<u8>,
        /// The private key (PEM). Never printed.
        key_pem: Vec<u8>,
        /// The token. Never printed.
        token: String,
    },
}

impl ClientAuth {
    /// `client certificate`, `bearer token` or both.
    pub fn describe(&self) -> &'static str {
        match self {
            ClientAuth::Certificate { .. } => "client certificate",
            ClientAuth::Token(_) => "bearer token",
            ClientAuth::Both { .. } => "client certificate and bearer token",
        }
    }
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientAuth({} <redacted>)", self.describe())
    }
}

/// Everything needed to call the API server, from the current context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The kubeconfig it came from.
    pub file: String,
    /// The context used.
    pub context: String,
    /// The cluster's name.
    pub cluster: String,
    /// The user's name (the kubeconfig entry, not the identity the server sees).
    pub user: String,
    /// `https://host:port[/prefix]`, without a trailing slash.
    pub server: String,
    /// The CA certificates to trust (PEM); only these are trusted.
    pub ca_pem: Vec<u8>,
    /// `tls-server-name`: always `None` (a kubeconfig setting it is refused as unusable,
    /// since the server is verified under the URL's host only).
    pub tls_server_name: Option<String>,
    /// How to authenticate.
    pub auth: ClientAuth,
}

struct Doc<'a> {
    file: &'a str,
    dir: String,
    fs: &'a dyn NodeFiles,
}

impl Doc<'_> {
    fn invalid(&self, field: &str, problem: impl Into<String>) -> KubeconfigError {
        KubeconfigError::Invalid {
            file: self.file.to_owned(),
            field: field.to_owned(),
            problem: problem.into(),
        }
    }

    fn unusable(&self, field: &str, reason: impl Into<String>) -> KubeconfigError {
        KubeconfigError::Unusable {
            file: self.file.to_owned(),
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// An optional string field.
    fn string(
        &self,
        map: &Value,
        key: &str,
        field: &str,
    ) -> Result<Option<String>, KubeconfigError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.invalid(
                &format!("{field}.{key}"),
                format!("must be a string, not {}", kind(other)),
            )),
        }
    }

    fn bool(&self, map: &Value, key: &str, field: &str) -> Result<bool, KubeconfigError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.invalid(
                &format!("{field}.{key}"),
                format!("must be a boolean, not {}", kind(other)),
            )),
        }
    }

    /// Base64 `*-data`.
    fn data(
        &self,
        map: &Value,
        key: &str,
        field: &str,
    ) -> Result<Option<Vec<u8>>, KubeconfigError> {
        let Some(s) = self.string(map, key, field)? else {
            return Ok(None);
        };
        let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        STANDARD
            .decode(compact.as_bytes())
            .map(Some)
            .map_err(|_| self.invalid(&format!("{field}.{key}"), "not valid base64"))
    }

    /// A file field, read through the node's files, relative to the kubeconfig's directory.
    fn file_field(
        &self,
        map: &Value,
        key: &str,
        field: &str,
    ) -> Result<Option<Vec<u8>>, KubeconfigError> {
        let Some(p) = self.string(map, key, field)? else {
            return Ok(None);
        };
        if p.is_empty() {
            return Ok(None);
        }
        let path = if p.starts_with('/') {
            normalize(&p)
        } else {
            normalize(&join(&self.dir, &p))
        };
        let read_err = |reason: String| KubeconfigError::Read {
            file: self.file.to_owned(),
            field: format!("{field}.{key}"),
            path: path.clone(),
            reason,
        };
        match self.fs.read(&path) {
            Ok(Some(b)) => Ok(Some(b)),
            Ok(None) => Err(read_err("no such file".into())),
            Err(e) => Err(read_err(e.to_string())),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

fn has_pem(pem: &[u8], label_end: &str) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.lines()
        .any(|l| l.starts_with("-----BEGIN ") && l.trim_end().ends_with(label_end))
}

/// Finds `name` in the list `key` (`clusters`, `users`, `contexts`) and returns the field
/// path and the entry's inner map (`cluster`, `user`, `context`).
fn named<'v>(
    doc: &Doc<'_>,
    root: &'v Value,
    key: &str,
    inner: &str,
    name: &str,
    referrer: &str,
) -> Result<(String, &'v Value), KubeconfigError> {
    let list = match root.get(key) {
        None | Some(Value::Null) => &[][..],
        Some(Value::Sequence(s)) => s.as_slice(),
        Some(other) => return Err(doc.invalid(key, format!("must be a list, not {}", kind(other)))),
    };
    for (i, entry) in list.iter().enumerate() {
        let field = format!("{key}[{i}]");
        if !entry.is_mapping() {
            return Err(doc.invalid(&field, format!("must be a map, not {}", kind(entry))));
        }
        if doc.string(entry, "name", &field)?.as_deref() == Some(name) {
            let field = format!("{field}.{inner}");
            return match entry.get(inner) {
                Some(v @ Value::Mapping(_)) => Ok((field, v)),
                None | Some(Value::Null) => Err(doc.invalid(&field, "missing")),
                Some(other) => {
                    Err(doc.invalid(&field, format!("must be a map, not {}", kind(other))))
                }
            };
        }
    }
    // The name is not repeated: in a damaged file it can hold anything, a token included
    // (the never-leaks property test found one).
    Err(doc.invalid(referrer, format!("names a {key} entry that does not exist")))
}

/// Reads the kubeconfig at node path `file` from `fs` and resolves its current context
/// (or `context`, when given).
pub fn load(
    fs: &dyn NodeFiles,
    file: &str,
    context: Option<&str>,
) -> Result<Credentials, KubeconfigError> {
    let bytes = match fs.read(file) {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Err(KubeconfigError::Missing {
                file: file.to_owned(),
            })
        }
        Err(e) => {
            return Err(KubeconfigError::Read {
                file: file.to_owned(),
                field: "-".into(),
                path: file.to_owned(),
                reason: e.to_string(),
            })
        }
    };
    parse(fs, file, &bytes, context)
}

/// Parses kubeconfig `bytes` (read from node path `file`; files it names are read from
/// `fs` relative to `file`'s directory) and resolves its current context (or `context`).
pub fn parse(
    fs: &dyn NodeFiles,
    file: &str,
    bytes: &[u8],
    context: Option<&str>,
) -> Result<Credentials, KubeconfigError> {
    let doc = Doc {
        file,
        dir: parent_of(&normalize(file)),
        fs,
    };
    // A syntax error's message has a position, not the text (serde_yaml_ng's scanner).
    let root: Value = serde_yaml_ng::from_slice(bytes).map_err(|e| {
        let loc = e
            .location()
            .map(|l| format!(" at line {} column {}", l.line(), l.column()))
            .unwrap_or_default();
        doc.invalid("-", format!("not valid YAML{loc}"))
    })?;
    if !root.is_mapping() {
        return Err(doc.invalid("-", format!("must be a map, not {}", kind(&root))));
    }
    if let Some(k) = doc.string(&root, "kind", "")? {
        if k != "Config" {
            return Err(doc.invalid("kind", "must be Config"));
        }
    }
    let context_name = match context {
        Some(c) => c.to_owned(),
        None => match doc.string(&root, "current-context", "")? {
            Some(c) if !c.is_empty() => c,
            _ => return Err(doc.invalid("current-context", "not set")),
        },
    };
    let (ctx_field, ctx) = named(
        &doc,
        &root,
        "contexts",
        "context",
        &context_name,
        "current-context",
    )?;
    let cluster_name = doc
        .string(ctx, "cluster", &ctx_field)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| doc.invalid(&format!("{ctx_field}.cluster"), "not set"))?;
    let user_name = doc
        .string(ctx, "user", &ctx_field)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| doc.invalid(&format!("{ctx_field}.user"), "not set"))?;
    let (cl_field, cluster) = named(
        &doc,
        &root,
        "clusters",
        "cluster",
        &cluster_name,
        &format!("{ctx_field}.cluster"),
    )?;
    let (u_field, user) = named(
        &doc,
        &root,
        "users",
        "user",
        &user_name,
        &format!("{ctx_field}.user"),
    )?;

    // Cluster.
    let server = doc
        .string(cluster, "server", &cl_field)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| doc.invalid(&format!("{cl_field}.server"), "not set"))?;
    let server = server.trim_end_matches('/').to_owned();
    if server.starts_with("http://") {
        return Err(doc.unusable(
            &format!("{cl_field}.server"),
            "plain http: doctor talks to the API server over TLS only",
        ));
    }
    let Some(authority) = server.strip_prefix("https://") else {
        return Err(doc.invalid(&format!("{cl_field}.server"), "must be an https:// URL"));
    };
    if authority.is_empty() || authority.starts_with('/') || authority.contains(['@', '?', '#']) {
        return Err(doc.invalid(
            &format!("{cl_field}.server"),
            "must be https://host[:port][/path]",
        ));
    }
    if doc.bool(cluster, "insecure-skip-tls-verify", &cl_field)? {
        return Err(doc.unusable(
            &format!("{cl_field}.insecure-skip-tls-verify"),
            "true: doctor does not talk to an API server it cannot verify (give the cluster's certificate-authority instead)",
        ));
    }
    let ca_pem = match doc.data(cluster, "certificate-authority-data", &cl_field)? {
        Some(d) => {
            if !has_pem(&d, "CERTIFICATE-----") {
                return Err(doc.invalid(
                    &format!("{cl_field}.certificate-authority-data"),
                    "holds no PEM certificate",
                ));
            }
            d
        }
        None => match doc.file_field(cluster, "certificate-authority", &cl_field)? {
            Some(d) if has_pem(&d, "CERTIFICATE-----") => d,
            Some(_) => {
                return Err(doc.invalid(
                    &format!("{cl_field}.certificate-authority"),
                    "the file holds no PEM certificate",
                ))
            }
            None => {
                return Err(doc.unusable(
                    &format!("{cl_field}.certificate-authority"),
                    "not set: doctor trusts only the kubeconfig's CA, not the system's",
                ))
            }
        },
    };
    let tls_server_name = doc
        .string(cluster, "tls-server-name", &cl_field)?
        .filter(|s| !s.is_empty());
    if tls_server_name.is_some() {
        // ureq verifies the certificate against the URL's host; it has no other name.
        return Err(doc.unusable(
            &format!("{cl_field}.tls-server-name"),
            "set: doctor verifies the server only under the server URL's host name",
        ));
    }

    // User.
    if user.get("exec").is_some_and(|v| !v.is_null()) {
        let cmd = user
            .get("exec")
            .and_then(|e| e.get("command"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        let cmd = cmd.rsplit('/').next().unwrap_or(cmd);
        return Err(doc.unusable(
            &format!("{u_field}.exec"),
            format!("an exec credential plugin ({cmd}): doctor runs no credential plugins"),
        ));
    }
    if user.get("auth-provider").is_some_and(|v| !v.is_null()) {
        let name = user
            .get("auth-provider")
            .and_then(|e| e.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        return Err(doc.unusable(
            &format!("{u_field}.auth-provider"),
            format!("auth-provider {name:?}: doctor runs no auth providers"),
        ));
    }
    let cert = match doc.data(user, "client-certificate-data", &u_field)? {
        Some(d) => Some((d, "client-certificate-data")),
        None => doc
            .file_field(user, "client-certificate", &u_field)?
            .map(|d| (d, "client-certificate")),
    };
    let key = match doc.data(user, "client-key-data", &u_field)? {
        Some(d) => Some((d, "client-key-data")),
        None => doc
            .file_field(user, "client-key", &u_field)?
            .map(|d| (d, "client-key")),
    };
    let token = match doc
        .string(user, "token", &u_field)?
        .filter(|t| !t.is_empty())
    {
        Some(t) => Some(t),
        None => match doc.file_field(user, "tokenFile", &u_field)? {
            Some(b) => {
                let t = String::from_utf8(b)
                    .map_err(|_| {
                        doc.invalid(
                            &format!("{u_field}.tokenFile"),
                            "the file is not UTF-8 text",
                        )
                    })?
                    .trim()
                    .to_owned();
                if t.is_empty() {
                    return Err(doc.invalid(&format!("{u_field}.tokenFile"), "the file is empty"));
                }
                Some(t)
            }
            None => None,
        },
    };
    if token
        .as_deref()
        .is_some_and(|t| t.chars().any(|c| c.is_control() || c == ' '))
    {
        return Err(doc.invalid(
            &format!("{u_field}.token"),
            "holds spaces or control characters",
        ));
    }
    let cert_key = match (cert, key) {
        (Some((c, cf)), Some((k, kf))) => {
            if !has_pem(&c, "CERTIFICATE-----") {
                return Err(doc.invalid(&format!("{u_field}.{cf}"), "holds no PEM certificate"));
            }
            if !has_pem(&k, "PRIVATE KEY-----") {
                return Err(doc.invalid(&format!("{u_field}.{kf}"), "holds no PEM private key"));
            }
            Some((c, k))
        }
        (Some((_, cf)), None) => {
            return Err(doc.invalid(
                &format!("{u_field}.{cf}"),
                "set without client-key or client-key-data",
            ))
        }
        (None, Some((_, kf))) => {
            return Err(doc.invalid(
                &format!("{u_field}.{kf}"),
                "set without client-certificate or client-certificate-data",
            ))
        }
        (None, None) => None,
    };
    let auth = match (cert_key, token) {
        (Some((cert_pem, key_pem)), Some(token)) => ClientAuth::Both {
            cert_pem,
            key_pem,
            token,
        },
        (Some((cert_pem, key_pem)), None) => ClientAuth::Certificate { cert_pem, key_pem },
        (None, Some(t)) => ClientAuth::Token(t),
        (None, None) => {
            if doc.string(user, "username", &u_field)?.is_some()
                || doc.string(user, "password", &u_field)?.is_some()
            {
                return Err(doc.unusable(
                    &format!("{u_field}.username"),
                    "basic auth: kube-apiserver no longer accepts it (removed in 1.19)",
                ));
            }
            return Err(doc.unusable(
                &u_field,
                "no client certificate, token or tokenFile: doctor would be anonymous",
            ));
        }
    };
    Ok(Credentials {
        file: file.to_owned(),
        context: context_name,
        cluster: cluster_name,
        user: user_name,
        server,
        ca_pem,
        tls_server_name,
        auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::MemFs;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const KEY: &str =
        "-----BEGIN EC PRIVATE KEY-----\nSECRETKEYBODY\n-----END EC PRIVATE KEY-----\n";

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    fn kubelet_conf() -> String {
        format!(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://10.0.0.1:6443/\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: system:node:n1\n  name: system:node:n1@kubernetes\ncurrent-context: system:node:n1@kubernetes\nkind: Config\npreferences: {{}}\nusers:\n- name: system:node:n1\n  user:\n    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n",
            b64(CA)
        )
    }

    fn node() -> MemFs {
        MemFs::new().file(
            "/var/lib/kubelet/pki/kubelet-client-current.pem",
            format!("{CA}{KEY}"),
        )
    }

    #[test]
    fn kubeadm_kubelet_conf() {
        let c = parse(
            &node(),
            "/etc/kubernetes/kubelet.conf",
            kubelet_conf().as_bytes(),
            None,
        )
        .unwrap();
        assert_eq!(c.server, "https://10.0.0.1:6443");
        assert_eq!(c.user, "system:node:n1");
        assert_eq!(c.ca_pem, CA.as_bytes());
        assert!(matches!(c.auth, ClientAuth::Certificate { .. }));
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("SECRETKEYBODY"), "{dbg}");
    }

    #[test]
    fn relative_paths_and_token_file() {
        let y = "clusters:\n- name: c\n  cluster:\n    server: https://k:443\n    certificate-authority: pki/ca.crt\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\nusers:\n- name: u\n  user:\n    tokenFile: ../tok\n";
        let fs = MemFs::new()
            .file("/etc/k/pki/ca.crt", CA)
            .file("/etc/tok", "  sekrit-token-value\n");
        let c = parse(&fs, "/etc/k/config", y.as_bytes(), None).unwrap();
        assert_eq!(c.auth, ClientAuth::Token("sekrit-token-value".into()));
        assert!(!format!("{c:?}").contains("sekrit"));
        let missing = parse(
            &MemFs::new().file("/etc/k/pki/ca.crt", CA),
            "/etc/k/config",
            y.as_bytes(),
            None,
        )
        .unwrap_err();
        assert_eq!(
            missing.to_string(),
            "/etc/k/config: users[0].user.tokenFile: cannot read /etc/tok: no such file"
        );
    }

    #[test]
    fn unusable_users_and_clusters() {
        let base = kubelet_conf();
        let exec = base.replace(
            "    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n",
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: /usr/bin/aws-iam-authenticator\n      args: [token, -i, c]\n",
        );
        let e = parse(&node(), "/k", exec.as_bytes(), None).unwrap_err();
        assert!(e.is_unusable());
        assert_eq!(e.to_string(), "/k: users[0].user.exec: an exec credential plugin (aws-iam-authenticator): doctor runs no credential plugins");
        let insecure = base.replace(
            "    server:",
            "    insecure-skip-tls-verify: true\n    server:",
        );
        let e = parse(&node(), "/k", insecure.as_bytes(), None).unwrap_err();
        assert!(
            e.to_string()
                .contains("clusters[0].cluster.insecure-skip-tls-verify: true"),
            "{e}"
        );
        let tsn = base.replace(
            "    server:",
            "    tls-server-name: kubernetes\n    server:",
        );
        let e = parse(&node(), "/k", tsn.as_bytes(), None).unwrap_err();
        assert!(e.is_unusable(), "{e}");
        let http = base.replace("https://10.0.0.1", "http://10.0.0.1");
        assert!(parse(&node(), "/k", http.as_bytes(), None)
            .unwrap_err()
            .is_unusable());
        let noca = base.replace(
            &format!("    certificate-authority-data: {}\n", b64(CA)),
            "",
        );
        let e = parse(&node(), "/k", noca.as_bytes(), None).unwrap_err();
        assert!(
            e.to_string().contains("certificate-authority: not set"),
            "{e}"
        );
        let ap = base.replace(
            "  user:\n",
            "  user:\n    auth-provider: {name: oidc, config: {id-token: SEKRIT}}\n",
        );
        let e = parse(&node(), "/k", ap.as_bytes(), None).unwrap_err();
        assert!(e.is_unusable() && !e.to_string().contains("SEKRIT"), "{e}");
    }

    #[test]
    fn broken_fields_are_named_without_values() {
        let base = kubelet_conf();
        for (from, to, want) in [
            (
                "current-context: system:node:n1@kubernetes",
                "current-context: nope",
                "current-context: names a contexts entry that does not exist",
            ),
            (
                "current-context: system:node:n1@kubernetes",
                "current-context: \"\"",
                "current-context: not set",
            ),
            (
                "    server: https://10.0.0.1:6443/",
                "    server: 10.0.0.1:6443",
                "clusters[0].cluster.server: must be an https:// URL",
            ),
            (
                "    server: https://10.0.0.1:6443/",
                "    server: [SEKRIT]",
                "clusters[0].cluster.server: must be a string, not a list",
            ),
            (
                &b64(CA),
                "SEKRIT!!",
                "clusters[0].cluster.certificate-authority-data: not valid base64",
            ),
            (
                "    client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n",
                "",
                "users[0].user.client-certificate: set without client-key or client-key-data",
            ),
            (
                "    user: system:node:n1\n",
                "    user: 7\n",
                "contexts[0].context.user: must be a string, not a number",
            ),
            ("kind: Config", "kind: Pod", "kind: must be Config"),
        ] {
            let y = base.replace(from, to);
            assert_ne!(y, base, "{from}");
            let e = parse(&node(), "/k", y.as_bytes(), None).unwrap_err();
            assert_eq!(e.to_string(), format!("/k: {want}"));
            assert!(!e.to_string().contains("SEKRIT"));
        }
        let e = parse(&node(), "/k", b"users: [\n  token: SEKRIT", None).unwrap_err();
        assert!(
            e.to_string().starts_with("/k: -: not valid YAML at line"),
            "{e}"
        );
        assert!(!e.to_string().contains("SEKRIT"));
        let key_only = node().file("/var/lib/kubelet/pki/kubelet-client-current.pem", CA);
        let e = parse(&key_only, "/k", base.as_bytes(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/k: users[0].user.client-key: holds no PEM private key"
        );
    }

    #[test]
    fn data_wins_and_both_auths() {
        let y = format!("clusters:\n- name: c\n  cluster:\n    server: https://k\n    certificate-authority: /nope\n    certificate-authority-data: {}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\n- name: y\n  context: {{cluster: c, user: v}}\ncurrent-context: x\nusers:\n- name: u\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n    token: abc\n- name: v\n  user:\n    username: admin\n    password: SEKRIT\n", b64(CA), b64(CA), b64(KEY));
        let c = parse(&MemFs::new(), "/k", y.as_bytes(), None).unwrap();
        assert!(matches!(c.auth, ClientAuth::Both { .. }));
        assert_eq!(c.auth.describe(), "client certificate and bearer token");
        let e = parse(&MemFs::new(), "/k", y.as_bytes(), Some("y")).unwrap_err();
        assert!(
            e.is_unusable() && e.to_string().contains("basic auth"),
            "{e}"
        );
        assert!(!e.to_string().contains("SEKRIT"));
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever the bytes, parsing never panics.
            #[test]
            fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
                let _ = parse(&MemFs::new(), "/k", &bytes, None);
            }

            /// A kubeconfig with a token, cut and spliced anywhere: neither the result nor an
            /// error shows the token.
            #[test]
            fn mutated_kubeconfig_never_leaks(pos in 0usize..1200, cut in 0usize..40, ins in "[ :\\[\\]{}a-z-]{0,6}") {
                let secret = "TOPSECRETTOKEN";
                let y = format!("clusters:\n- name: c\n  cluster:\n    server: https://k\n    certificate-authority-data: {}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\nusers:\n- name: u\n  user:\n    token: {secret}\n", b64(CA));
                let mut b = y.into_bytes();
                let p = pos.min(b.len());
                let end = (p + cut).min(b.len());
                b.splice(p..end, ins.bytes());
                match parse(&MemFs::new(), "/k", &b, None) {
                    Ok(c) => {
                        let dbg = format!("{:?}", c);
                        prop_assert!(!dbg.contains(secret));
                    }
                    Err(e) => {
                        let text = format!("{} {:?}", e, e);
                        prop_assert!(!text.contains(secret));
                    }
                }
            }
        }
    }
}
