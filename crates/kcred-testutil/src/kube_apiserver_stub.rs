//! A kube-apiserver stub for access-review tests: TLS on loopback ([`StubServer`]), the
//! authentication and authorization a real API server applies to these three calls, and
//! real RBAC evaluation over manifests given as YAML.
//!
//! Wire format (kubernetes/kubernetes `staging/src/k8s.io/api/authorization/v1/types.go`,
//! `authentication/v1/types.go`): `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`,
//! `.../subjectaccessreviews` and `/apis/authentication.k8s.io/v1/selfsubjectreviews` answer
//! `201 Created` with the object echoed and its `status`; errors are `v1` `Status` objects
//! (`401 Unauthorized`, `403 Forbidden`, `404 NotFound`, `405 MethodNotAllowed`,
//! `400 BadRequest` for an undecodable body or a wrong `apiVersion`/`kind`, `415
//! UnsupportedMediaType` for a body that is not `application/json`, `422 Invalid` for a spec
//! the validation rejects).
//!
//! Authentication, in the API server's order: a client certificate verified against the
//! client CA (user = CN, groups = O, as the x509 authenticator does), then a bearer token from
//! the stub's token table; anything else is `401` (anonymous auth off). Every authenticated
//! user is also in `system:authenticated`. One difference: a client certificate the client CA
//! did not sign fails the TLS handshake here, where kube-apiserver (which requests but does not
//! require client certificates) answers `401`; either way the client gets no answer it can use.
//!
//! Authorization: `system:masters` is allowed everything (the privileged-group authorizer),
//! then RBAC (kubernetes/kubernetes `plugin/pkg/auth/authorizer/rbac/rbac.go` and
//! `pkg/apis/rbac/v1/evaluation_helpers.go`): ClusterRoleBindings for every request,
//! RoleBindings only for requests in their namespace (a request with namespace `""` is
//! cluster-scoped), roleRef to a Role or ClusterRole, subjects `User`, `Group` and
//! `ServiceAccount`; a rule matches when the verb, the API group and the resource each match
//! or are `*` (`*/sub` for subresources), and `resourceNames` is empty or holds the requested
//! name (so a name of `""` never matches a `resourceNames` rule). The bootstrap policy's
//! `system:basic-user` (self reviews for `system:authenticated`) is always present, so
//! creating a SelfSubjectAccessReview is allowed and creating a SubjectAccessReview needs a
//! grant, as on a real cluster. Not modelled: the Node authorizer (its graph covers objects
//! pods on the node use, not token audiences), webhooks, aggregated ClusterRoles.

use std::collections::BTreeMap;
use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::http_stub::{PeerStream, Stream, StubRequest, StubResponse, StubServer};
use crate::pki::{ec_ca, ec_leaf};

/// The bootstrap `system:basic-user` ClusterRole and its binding
/// (kubernetes/kubernetes `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`).
pub const BOOTSTRAP_POLICY: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:basic-user
rules:
- apiGroups: [authorization.k8s.io]
  resources: [selfsubjectaccessreviews, selfsubjectrulesreviews]
  verbs: [create]
- apiGroups: [authentication.k8s.io]
  resources: [selfsubjectreviews]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:basic-user
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:basic-user
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:authenticated
"#;

/// One RBAC rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    /// `verbs`.
    pub verbs: Vec<String>,
    /// `apiGroups`.
    pub api_groups: Vec<String>,
    /// `resources`.
    pub resources: Vec<String>,
    /// `resourceNames`.
    pub resource_names: Vec<String>,
}

/// A binding's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: String,
    /// The name.
    pub name: String,
    /// The namespace (ServiceAccount).
    pub namespace: String,
}

/// A (Cluster)RoleBinding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The binding's name.
    pub name: String,
    /// `""` for a ClusterRoleBinding.
    pub namespace: String,
    /// `Role` or `ClusterRole`.
    pub role_kind: String,
    /// The role's name.
    pub role_name: String,
    /// Who.
    pub subjects: Vec<Subject>,
}

/// A request's attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// `""`: cluster-scoped.
    pub namespace: String,
    /// The verb.
    pub verb: String,
    /// The API group.
    pub group: String,
    /// The resource.
    pub resource: String,
    /// The subresource.
    pub subresource: String,
    /// The object's name.
    pub name: String,
}

/// RBAC objects, evaluated as kube-apiserver's RBAC authorizer does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rbac {
    cluster_roles: BTreeMap<String, Vec<Rule>>,
    roles: BTreeMap<(String, String), Vec<Rule>>,
    bindings: Vec<Binding>,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn has(list: &[String], want: &str) -> bool {
    list.iter().any(|x| x == "*" || x == want)
}

impl Rule {
    /// Whether this rule allows `a` (`RuleAllows` in evaluation_helpers.go).
    pub fn allows(&self, a: &Attributes) -> bool {
        let combined = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        let resource = self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!a.subresource.is_empty() && *r == format!("*/{}", a.subresource))
        });
        has(&self.verbs, &a.verb)
            && has(&self.api_groups, &a.group)
            && resource
            && (self.resource_names.is_empty() || self.resource_names.contains(&a.name))
    }
}

impl Rbac {
    /// The bootstrap policy only.
    pub fn bootstrap() -> Rbac {
        Rbac::from_yaml(BOOTSTRAP_POLICY).expect("bootstrap policy")
    }

    /// The bootstrap policy plus the ClusterRoles, Roles, ClusterRoleBindings and
    /// RoleBindings of `yaml` (multi-document; `List` objects are unpacked; other kinds are
    /// ignored, as `kubectl apply` of deploy/ would create them elsewhere).
    pub fn with_manifests(yaml: &str) -> Result<Rbac, String> {
        let mut r = Rbac::bootstrap();
        r.add_yaml(yaml)?;
        Ok(r)
    }

    /// Only the objects of `yaml`.
    pub fn from_yaml(yaml: &str) -> Result<Rbac, String> {
        let mut r = Rbac::default();
        r.add_yaml(yaml)?;
        Ok(r)
    }

    /// Adds the objects of `yaml`.
    pub fn add_yaml(&mut self, yaml: &str) -> Result<(), String> {
        use serde::Deserialize;
        for doc in serde_yaml_ng::Deserializer::from_str(yaml) {
            let v = Value::deserialize(doc).map_err(|e| e.to_string())?;
            self.add(&v)?;
        }
        Ok(())
    }

    fn add(&mut self, v: &Value) -> Result<(), String> {
        if v.is_null() {
            return Ok(());
        }
        let kind = v["kind"].as_str().unwrap_or("");
        if kind == "List" {
            for item in v["items"].as_array().into_iter().flatten() {
                self.add(item)?;
            }
            return Ok(());
        }
        if !matches!(
            kind,
            "ClusterRole" | "Role" | "ClusterRoleBinding" | "RoleBinding"
        ) {
            return Ok(());
        }
        if v["apiVersion"] != "rbac.authorization.k8s.io/v1" {
            return Err(format!(
                "{kind}: apiVersion must be rbac.authorization.k8s.io/v1"
            ));
        }
        let name = v["metadata"]["name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("{kind}: metadata.name missing"))?
            .to_owned();
        let namespace = v["metadata"]["namespace"].as_str().unwrap_or("").to_owned();
        match kind {
            "ClusterRole" | "Role" => {
                let rules = v["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| Rule {
                        verbs: strings(r, "verbs"),
                        api_groups: strings(r, "apiGroups"),
                        resources: strings(r, "resources"),
                        resource_names: strings(r, "resourceNames"),
                    })
                    .collect();
                if kind == "ClusterRole" {
                    self.cluster_roles.insert(name, rules);
                } else {
                    if namespace.is_empty() {
                        return Err(format!("Role {name}: metadata.namespace missing"));
                    }
                    self.roles.insert((namespace, name), rules);
                }
            }
            _ => {
                if kind == "RoleBinding" && namespace.is_empty() {
                    return Err(format!("RoleBinding {name}: metadata.namespace missing"));
                }
                let role_kind = v["roleRef"]["kind"].as_str().unwrap_or("").to_owned();
                if kind == "ClusterRoleBinding" && role_kind != "ClusterRole" {
                    return Err(format!(
                        "ClusterRoleBinding {name}: roleRef.kind must be ClusterRole"
                    ));
                }
                let subjects = v["subjects"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| Subject {
                        kind: s["kind"].as_str().unwrap_or("").to_owned(),
                        name: s["name"].as_str().unwrap_or("").to_owned(),
                        namespace: s["namespace"].as_str().unwrap_or("").to_owned(),
                    })
                    .collect();
                self.bindings.push(Binding {
                    name,
                    namespace: if kind == "ClusterRoleBinding" {
                        String::new()
                    } else {
                        namespace
                    },
                    role_kind,
                    role_name: v["roleRef"]["name"].as_str().unwrap_or("").to_owned(),
                    subjects,
                });
            }
        }
        Ok(())
    }

    /// `Some(reason)` when `user` in `groups` may do `a`.
    pub fn authorize(&self, user: &str, groups: &[String], a: &Attributes) -> Option<String> {
        if groups.iter().any(|g| g == "system:masters") {
            return Some(String::new());
        }
        for b in &self.bindings {
            if !b.namespace.is_empty() && b.namespace != a.namespace {
                continue;
            }
            let Some(subject) = b.subjects.iter().find(|s| match s.kind.as_str() {
                "User" => s.name == user,
                "Group" => groups.contains(&s.name),
                "ServiceAccount" => {
                    user == format!("system:serviceaccount:{}:{}", s.namespace, s.name)
                }
                _ => false,
            }) else {
                continue;
            };
            let rules = match b.role_kind.as_str() {
                "ClusterRole" => self.cluster_roles.get(&b.role_name),
                "Role" => self.roles.get(&(b.namespace.clone(), b.role_name.clone())),
                _ => None,
            };
            if rules.into_iter().flatten().any(|r| r.allows(a)) {
                let binding = if b.namespace.is_empty() {
                    format!("ClusterRoleBinding {:?}", b.name)
                } else {
                    format!("RoleBinding \"{}/{}\"", b.name, b.namespace)
                };
                return Some(format!(
                    "RBAC: allowed by {binding} of {} {:?} to {} {:?}",
                    b.role_kind, b.role_name, subject.kind, subject.name
                ));
            }
        }
        None
    }
}

/// Minimal DER reading: the subject's CN and O of an X.509 certificate.
mod der {
    fn header(b: &[u8]) -> Option<(u8, usize, usize)> {
        let tag = *b.first()?;
        let l0 = *b.get(1)? as usize;
        if l0 < 0x80 {
            return Some((tag, 2, l0));
        }
        let n = l0 & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        Some((tag, 2 + n, len))
    }

    /// Splits `b` into its TLVs: (tag, content).
    fn items(mut b: &[u8]) -> Option<Vec<(u8, &[u8])>> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let (tag, h, len) = header(b)?;
            let content = b.get(h..h + len)?;
            out.push((tag, content));
            b = &b[h + len..];
        }
        Some(out)
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];

    /// (CN, [O…]) of the certificate's subject.
    pub(super) fn subject(cert: &[u8]) -> Option<(String, Vec<String>)> {
        let (_, cert) = *items(cert)?.first()?;
        let (_, tbs) = *items(cert)?.first()?;
        let fields = items(tbs)?;
        // [0] version is optional; then serial, signature, issuer, validity, subject.
        let skip = usize::from(fields.first()?.0 == 0xa0);
        let (_, subject) = *fields.get(skip + 4)?;
        let (mut cn, mut orgs) = (String::new(), Vec::new());
        for (_, set) in items(subject)? {
            for (_, atv) in items(set)? {
                let parts = items(atv)?;
                let (oid, value) = (parts.first()?.1, parts.get(1)?.1);
                let value = String::from_utf8_lossy(value).into_owned();
                if oid == CN {
                    cn = value;
                } else if oid == O {
                    orgs.push(value);
                }
            }
        }
        Some((cn, orgs))
    }
}

/// How the stub answers, besides RBAC.
#[derive(Debug, Clone, Default)]
struct Settings {
    rbac: Rbac,
    tokens: BTreeMap<String, (String, Vec<String>)>,
    no_self_subject_review: bool,
}

/// A running kube-apiserver stub.
pub struct KubeApiserverStub {
    server: StubServer,
    dir: PathBuf,
    settings: Arc<Mutex<Settings>>,
}

impl std::fmt::Debug for KubeApiserverStub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeApiserverStub")
            .field("url", &self.url())
            .finish()
    }
}

/// A `v1` `Status` failure.
pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> StubResponse {
    let mut v = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    });
    if let Some(d) = details {
        v["details"] = d;
    }
    StubResponse::json(code, v.to_string())
}

impl KubeApiserverStub {
    /// Starts a stub with PKI in `dir` (server CA `ca.crt`, client CA `client-ca.crt`) and
    /// the bootstrap policy plus the RBAC objects of `rbac_yaml`.
    pub fn start(dir: &Path, rbac_yaml: &str) -> KubeApiserverStub {
        std::fs::create_dir_all(dir).expect("pki dir");
        ec_ca(dir, "ca", "kubernetes");
        ec_ca(dir, "client-ca", "kubernetes-client");
        ec_leaf(
            dir,
            "apiserver",
            "/CN=kube-apiserver",
            "ca",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        );
        let settings = Arc::new(Mutex::new(Settings {
            rbac: Rbac::with_manifests(rbac_yaml).expect("RBAC YAML"),
            ..Settings::default()
        }));
        let cfg = server_config(dir);
        let wrap = move |mut tcp: TcpStream| -> io::Result<PeerStream> {
            let mut conn = rustls::ServerConnection::new(cfg.clone()).map_err(io::Error::other)?;
            while conn.is_handshaking() {
                conn.complete_io(&mut tcp)?;
            }
            let peer = conn
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| c.as_ref().to_vec());
            let stream: Box<dyn Stream> = Box::new(rustls::StreamOwned::new(conn, tcp));
            Ok((stream, peer))
        };
        let s2 = settings.clone();
        let server = StubServer::start_with_peer(wrap, move |req| {
            let s = s2.lock().unwrap_or_else(|e| e.into_inner()).clone();
            handle(&s, req)
        });
        KubeApiserverStub {
            server,
            dir: dir.to_owned(),
            settings,
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.server.addr())
    }

    /// The server CA (trust this).
    pub fn ca_crt(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<StubRequest> {
        self.server.requests()
    }

    /// Issues a client certificate for `user` in `groups` (as kubeadm issues
    /// `system:node:NAME` in `system:nodes`): returns the certificate and key files.
    pub fn client_cert(&self, file: &str, user: &str, groups: &[&str]) -> (PathBuf, PathBuf) {
        let mut subj = String::new();
        for g in groups {
            subj.push_str(&format!("/O={g}"));
        }
        subj.push_str(&format!("/CN={user}"));
        ec_leaf(
            &self.dir,
            file,
            &subj,
            "client-ca",
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
        );
        (
            self.dir.join(format!("{file}.crt")),
            self.dir.join(format!("{file}.key")),
        )
    }

    /// Accepts bearer `token` as `user` in `groups`.
    pub fn add_token(&self, token: &str, user: &str, groups: &[&str]) {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tokens
            .insert(
                token.to_owned(),
                (
                    user.to_owned(),
                    groups.iter().map(|g| (*g).to_owned()).collect(),
                ),
            );
    }

    /// Replaces the RBAC objects (the bootstrap policy stays).
    pub fn set_rbac(&self, yaml: &str) {
        self.settings.lock().unwrap_or_else(|e| e.into_inner()).rbac =
            Rbac::with_manifests(yaml).expect("RBAC YAML");
    }

    /// Serves no `selfsubjectreviews` (kube-apiserver before 1.28): `404`.
    pub fn without_self_subject_review(&self) {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .no_self_subject_review = true;
    }
}

fn server_config(dir: &Path) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(dir.join("apiserver.crt"))
            .expect("crt")
            .map(|c| c.expect("crt"))
            .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("apiserver.key")).expect("key");
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(dir.join("client-ca.crt")).expect("client ca") {
        roots.add(c.expect("client ca")).expect("add client ca");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .allow_unauthenticated()
    .build()
    .expect("client verifier");
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .expect("server config"),
    )
}

/// Authenticates: the client certificate, then the bearer token.
fn authenticate(s: &Settings, req: &StubRequest) -> Result<(String, Vec<String>), StubResponse> {
    let unauthorized = || status(401, "Unauthorized", "Unauthorized", None);
    // Only a certificate the client CA signed gets here (the TLS layer verified it).
    let (user, mut groups) = if let Some(der) = &req.peer_certificate {
        der::subject(der).ok_or_else(unauthorized)?
    } else if let Some(t) = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
    {
        s.tokens.get(t.trim()).cloned().ok_or_else(unauthorized)?
    } else {
        return Err(unauthorized());
    };
    if user.is_empty() {
        return Err(unauthorized());
    }
    groups.push("system:authenticated".to_owned());
    Ok((user, groups))
}

fn forbidden(user: &str, group: &str, resource: &str) -> StubResponse {
    status(
        403,
        "Forbidden",
        &format!("{resource}.{group} is forbidden: User \"{user}\" cannot create resource \"{resource}\" in API group \"{group}\" at the cluster scope"),
        Some(json!({"group": group, "kind": resource})),
    )
}

fn handle(s: &Settings, req: &StubRequest) -> StubResponse {
    let (group, resource, kind) = match req.path() {
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" => (
            "authorization.k8s.io",
            "selfsubjectaccessreviews",
            "SelfSubjectAccessReview",
        ),
        "/apis/authorization.k8s.io/v1/subjectaccessreviews" => (
            "authorization.k8s.io",
            "subjectaccessreviews",
            "SubjectAccessReview",
        ),
        "/apis/authentication.k8s.io/v1/selfsubjectreviews" if !s.no_self_subject_review => (
            "authentication.k8s.io",
            "selfsubjectreviews",
            "SelfSubjectReview",
        ),
        _ => {
            // Authentication comes first on a real server, even for unknown paths.
            if let Err(r) = authenticate(s, req) {
                return r;
            }
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource",
                Some(json!({})),
            );
        }
    };
    let (user, groups) = match authenticate(s, req) {
        Ok(u) => u,
        Err(r) => return r,
    };
    if req.method != "POST" {
        return status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            Some(json!({})),
        );
    }
    let create = Attributes {
        verb: "create".into(),
        group: group.into(),
        resource: resource.into(),
        ..Attributes::default()
    };
    if s.rbac.authorize(&user, &groups, &create).is_none() {
        return forbidden(&user, group, resource);
    }
    let ct = req.header("content-type").unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    if media != "application/json" {
        return status(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
            Some(json!({})),
        );
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return status(
                400,
                "BadRequest",
                "the object provided is unrecognized or invalid JSON",
                None,
            )
        }
    };
    let api_version = format!("{group}/v1");
    if body["apiVersion"] != api_version.as_str() || body["kind"] != kind {
        return status(
            400,
            "BadRequest",
            &format!(
                "the API version in the data ({}) does not match the expected API version ({api_version})",
                body["apiVersion"].as_str().unwrap_or("")
            ),
            None,
        );
    }
    let created = |mut obj: Value, st: Value| {
        obj["metadata"] = json!({"creationTimestamp": null});
        obj["status"] = st;
        StubResponse::json(201, obj.to_string())
    };
    if kind == "SelfSubjectReview" {
        return created(
            json!({"kind": kind, "apiVersion": api_version}),
            json!({"userInfo": {"username": user, "groups": groups}}),
        );
    }
    let spec = &body["spec"];
    let invalid = |field: &str, msg: &str| {
        status(
            422,
            "Invalid",
            &format!("{kind}.authorization.k8s.io \"\" is invalid: {field}: {msg}"),
            Some(
                json!({"group": group, "kind": kind, "causes": [{"reason": "FieldValueInvalid", "message": msg, "field": field}]}),
            ),
        )
    };
    let ra = &spec["resourceAttributes"];
    let nra = &spec["nonResourceAttributes"];
    if ra.is_object() == nra.is_object() {
        return invalid(
            "spec.resourceAttributes",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        );
    }
    let (who, who_groups) = if kind == "SubjectAccessReview" {
        let u = spec["user"].as_str().unwrap_or("").to_owned();
        let g = strings(spec, "groups");
        if u.is_empty() && g.is_empty() {
            return invalid(
                "spec.user",
                "at least one of user or group must be specified",
            );
        }
        (u, g)
    } else {
        (user, groups)
    };
    let decision = if ra.is_object() {
        let a = Attributes {
            namespace: ra["namespace"].as_str().unwrap_or("").into(),
            verb: ra["verb"].as_str().unwrap_or("").into(),
            group: ra["group"].as_str().unwrap_or("").into(),
            resource: ra["resource"].as_str().unwrap_or("").into(),
            subresource: ra["subresource"].as_str().unwrap_or("").into(),
            name: ra["name"].as_str().unwrap_or("").into(),
        };
        s.rbac.authorize(&who, &who_groups, &a)
    } else {
        None
    };
    let mut st = json!({"allowed": decision.is_some()});
    if let Some(r) = decision.filter(|r| !r.is_empty()) {
        st["reason"] = json!(r);
    }
    created(body.clone(), st)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(ns: &str, verb: &str, res: &str, name: &str) -> Attributes {
        Attributes {
            namespace: ns.into(),
            verb: verb.into(),
            resource: res.into(),
            name: name.into(),
            ..Attributes::default()
        }
    }

    #[test]
    fn rbac_semantics() {
        let y = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: aud}
rules:
- {verbs: [request-serviceaccounts-token-audience], apiGroups: [""], resources: [a.example], resourceNames: [puller]}
- {verbs: ["*"], apiGroups: ["*"], resources: [b.example]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: aud}
subjects: [{kind: Group, name: system:nodes, apiGroup: rbac.authorization.k8s.io}]
"#;
        let r = Rbac::with_manifests(y).unwrap();
        let nodes = vec!["system:nodes".to_owned()];
        let v = "request-serviceaccounts-token-audience";
        assert!(r
            .authorize(
                "system:node:n",
                &nodes,
                &attrs("team", v, "a.example", "puller")
            )
            .is_some());
        assert!(
            r.authorize("system:node:n", &nodes, &attrs("team", v, "a.example", ""))
                .is_none(),
            "empty name never matches resourceNames"
        );
        assert!(r
            .authorize(
                "system:node:n",
                &nodes,
                &attrs("other", v, "a.example", "puller")
            )
            .is_none());
        assert!(
            r.authorize("system:node:n", &nodes, &attrs("", v, "b.example", ""))
                .is_none(),
            "RoleBinding: not cluster-wide"
        );
        assert!(r
            .authorize(
                "system:node:n",
                &nodes,
                &attrs("team", "get", "b.example", "x")
            )
            .is_some());
        assert!(r
            .authorize(
                "x",
                &["system:masters".to_owned()],
                &attrs("", "anything", "y", "")
            )
            .is_some());
        let auth = vec!["system:authenticated".to_owned()];
        let mut ssar = attrs("", "create", "selfsubjectaccessreviews", "");
        ssar.group = "authorization.k8s.io".into();
        assert!(r.authorize("u", &auth, &ssar).is_some());
        ssar.resource = "subjectaccessreviews".into();
        assert!(r.authorize("u", &auth, &ssar).is_none());
    }

    #[test]
    fn subresource_wildcards() {
        let rule = Rule {
            verbs: vec!["get".into()],
            api_groups: vec!["".into()],
            resources: vec!["*/status".into()],
            resource_names: vec![],
        };
        let mut a = attrs("", "get", "pods", "");
        assert!(!rule.allows(&a));
        a.subresource = "status".into();
        assert!(rule.allows(&a));
    }
}
