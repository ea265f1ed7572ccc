//! `kcred wi plan --cloud azure|aws|gcp …`: a complete, copy-pasteable plan for keyless image
//! pulls by one service account on a self-managed (kubeadm or k3s) cluster. See
//! docs/workload-identity.md for the walk-through the plan follows.
//!
//! The plan is a shell script on stdout: comments say what each step is for; every file it
//! writes or applies is a quoted here-document (`<<'KCRED_EOF'`), so nothing is expanded by
//! the shell. It covers, in order: publishing the issuer (`kcred oidc discovery`/`check`),
//! the cloud trust (Entra federated credential; IAM OIDC provider + role trust policy; GCP
//! workload identity pool provider), kube-apiserver's issuer flags (kubeadm and k3s
//! spellings), the kubelet's feature gate and flags for `--kubelet-version` (from the
//! `kcred-kubelet` version table), the CredentialProviderConfig entry with `tokenAttributes`,
//! the node-audience RBAC, and the service account with the annotations the plugin reads.
//! Every input is validated first; nothing is printed for bad input (exit 2).

use anyhow::{bail, Context as _};
use kcred_kubelet::KubeletVersion;
use kcred_oidc::discovery::{check_https_url, default_jwks_uri};
use kcred_oidc::verify::split_service_account_subject;

use crate::output::Exit;

/// Arguments of `kcred wi`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: WiCommand,
}

#[derive(Debug, clap::Subcommand)]
enum WiCommand {
    /// Print the plan for one service account and one cloud.
    Plan(Box<PlanArgs>),
}

/// The cloud whose registry the service account pulls from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CloudArg {
    /// Azure Container Registry via Entra ID workload identity federation.
    Azure,
    /// Amazon ECR via IAM OIDC provider and sts:AssumeRoleWithWebIdentity.
    Aws,
    /// Artifact Registry / GCR via a workload identity pool provider and Google STS.
    Gcp,
}

/// Arguments of `kcred wi plan`.
#[derive(Debug, clap::Args)]
struct PlanArgs {
    /// Which cloud.
    #[arg(long, value_enum)]
    cloud: CloudArg,
    /// The cluster's public issuer URL (kube-apiserver --service-account-issuer).
    #[arg(long, value_name = "URL")]
    issuer: String,
    /// The JWKS URL; default ISSUER/openid/v1/jwks.
    #[arg(long, value_name = "URL")]
    jwks_uri: Option<String>,
    /// The pod's namespace.
    #[arg(long, value_name = "NS")]
    namespace: String,
    /// The pod's service account.
    #[arg(long, value_name = "NAME")]
    service_account: String,
    /// Token audience; default per cloud (api://AzureADTokenExchange, sts.amazonaws.com, the
    /// GCP provider's default audience).
    #[arg(long, value_name = "AUD")]
    audience: Option<String>,
    #[command(flatten)]
    kubelet: crate::kubelet_version::KubeletVersionArg,
    /// The kubelet's --image-credential-provider-bin-dir.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/usr/local/lib/kcred/plugins"
    )]
    bin_dir: String,
    /// The kubelet's --image-credential-provider-config.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/kubernetes/credential-providers.yaml"
    )]
    provider_config: String,
    /// Azure: the tenant ID.
    #[arg(long, value_name = "ID")]
    azure_tenant_id: Option<String>,
    /// Azure: the user-assigned managed identity's client ID.
    #[arg(long, value_name = "ID")]
    azure_client_id: Option<String>,
    /// Azure: the managed identity's name.
    #[arg(long, value_name = "NAME")]
    azure_identity_name: Option<String>,
    /// Azure: the identity's resource group.
    #[arg(long, value_name = "RG")]
    azure_resource_group: Option<String>,
    /// Azure: the registry name (for the AcrPull role assignment).
    #[arg(long, value_name = "NAME")]
    acr_name: Option<String>,
    /// AWS: the account ID (12 digits).
    #[arg(long, value_name = "ID")]
    aws_account_id: Option<String>,
    /// AWS: the IAM role to create; default kcred-ecr-pull-NS-NAME.
    #[arg(long, value_name = "NAME")]
    aws_role_name: Option<String>,
    /// GCP: the project ID.
    #[arg(long, value_name = "ID")]
    gcp_project_id: Option<String>,
    /// GCP: the project number.
    #[arg(long, value_name = "NUMBER")]
    gcp_project_number: Option<String>,
    /// GCP: the workload identity pool ID.
    #[arg(long, value_name = "ID", default_value = "kcred-homelab")]
    gcp_pool: String,
    /// GCP: the pool's OIDC provider ID.
    #[arg(long, value_name = "ID", default_value = "cluster-issuer")]
    gcp_provider: String,
    /// GCP: register the cluster in a fleet under this membership name and use fleet
    /// workload identity (the identity-namespace audience auth-provider-gcp sends today)
    /// instead of a plain workload identity pool.
    #[arg(long, value_name = "NAME")]
    gcp_fleet_membership: Option<String>,
    /// GCP: the Artifact Registry repository (LOCATION/REPO) to grant read access on.
    #[arg(long, value_name = "LOCATION/REPO")]
    gcp_repository: Option<String>,
}

/// Runs `kcred wi …`.
pub(crate) fn run(args: &Args) -> anyhow::Result<Exit> {
    match &args.command {
        WiCommand::Plan(a) => {
            out!("{}", plan(a)?);
            Ok(Exit::Yes)
        }
    }
}

fn require<'a>(
    v: &'a Option<String>,
    flag: &str,
    cloud: &str,
    ok: fn(&str) -> bool,
    rule: &str,
) -> anyhow::Result<&'a str> {
    let Some(v) = v.as_deref() else {
        bail!("--cloud {cloud} needs {flag}");
    };
    if !ok(v) {
        bail!("{flag} {v:?}: {rule}");
    }
    Ok(v)
}

fn id_chars(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}
fn digits(n: usize) -> impl Fn(&str) -> bool {
    move |s: &str| s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}
fn gcp_id(s: &str) -> bool {
    (4..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_lowercase()
        && !s.ends_with('-')
}
fn project_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}
fn repo(s: &str) -> bool {
    s.split_once('/')
        .is_some_and(|(l, r)| id_chars(l) && id_chars(r))
}

/// A YAML double-quoted scalar.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A shell single-quoted word (inputs are validated; this is belt and braces).
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

struct Cloud {
    plugin: &'static str,
    audience: String,
    match_images: &'static [&'static str],
    default_cache: &'static str,
    args: Vec<String>,
    annotation_keys: &'static [&'static str],
    annotations: Vec<(String, String)>,
    trust: String,
    node_files: String,
}

fn plan(a: &PlanArgs) -> anyhow::Result<String> {
    check_https_url("issuer", &a.issuer).context("--issuer")?;
    let jwks_uri = a
        .jwks_uri
        .clone()
        .unwrap_or_else(|| default_jwks_uri(&a.issuer));
    check_https_url("jwks_uri", &jwks_uri).context("--jwks-uri")?;
    let subject = format!(
        "system:serviceaccount:{}:{}",
        a.namespace, a.service_account
    );
    if split_service_account_subject(&subject).is_none() {
        bail!("--namespace {:?} / --service-account {:?}: not a Kubernetes namespace (DNS label) and service-account name (DNS subdomain)", a.namespace, a.service_account);
    }
    for (flag, v) in [
        ("--bin-dir", &a.bin_dir),
        ("--provider-config", &a.provider_config),
    ] {
        if !v.starts_with('/') || v.contains(char::is_whitespace) || v.contains(['\'', '"', '\\']) {
            bail!("{flag} {v:?}: must be an absolute path without spaces or quotes");
        }
    }
    let v: KubeletVersion = a.kubelet.kubelet_version;
    let Some(token_support) = v.token_attributes() else {
        bail!("--kubelet-version {v}: this kubelet has no service-account token mode for credential providers (KEP-4412 tokenAttributes: alpha in 1.33, beta from 1.34); upgrade the kubelet");
    };
    let cloud = match a.cloud {
        CloudArg::Azure => azure(a, &subject)?,
        CloudArg::Aws => aws(a, &subject)?,
        CloudArg::Gcp => gcp(a, &subject)?,
    };
    let audience = a.audience.clone().unwrap_or(cloud.audience.clone());
    if audience.is_empty()
        || audience.contains(char::is_whitespace)
        || audience.contains(['"', '\'', '\\'])
    {
        bail!("--audience {audience:?}: must be a non-empty string without spaces or quotes");
    }
    let cloud_name = match a.cloud {
        CloudArg::Azure => "azure",
        CloudArg::Aws => "aws",
        CloudArg::Gcp => "gcp",
    };
    let mut o = String::new();
    let issuer = &a.issuer;
    o.push_str(&format!("#!/bin/sh\n# kcred workload-identity plan: --cloud {cloud_name}, service account {}/{}, kubelet {v}\n# Generated by `kcred wi plan`; walk-through and troubleshooting: docs/workload-identity.md.\n# Every file below is a quoted here-document: nothing in it is expanded by the shell.\nset -eu\n\n", a.namespace, a.service_account));

    o.push_str(&format!("# 1. Publish the issuer: the public half of kube-apiserver's service-account signing key,\n#    as kube-apiserver serves it, on any static HTTPS host (object storage, Pages).\n#    kubeadm: /etc/kubernetes/pki/sa.pub (or: openssl pkey -in /etc/kubernetes/pki/sa.key -pubout)\n#    k3s:     openssl pkey -in /var/lib/rancher/k3s/server/tls/service.key -pubout > sa.pub\n#    Rotation: add the previous key with a second --key until its tokens have expired.\nkcred oidc discovery --issuer {} --jwks-uri {} --key sa.pub --out ./oidc\n#    Upload ./oidc so that these URLs answer 200 with the files' exact bytes (no redirects):\n#      {}/.well-known/openid-configuration\n#      {jwks_uri}\nkcred oidc check --issuer {}\n\n", sh(issuer), sh(&jwks_uri), issuer.trim_end_matches('/'), sh(issuer)));

    o.push_str("# 2. Cloud trust for this service account.\n");
    o.push_str(&cloud.trust);
    o.push('\n');

    o.push_str(&format!("# 3. kube-apiserver: issue tokens with the public issuer. Keep the old issuer as a second\n#    --service-account-issuer while in-cluster tokens with the old iss are still in use.\n## kubeadm (ClusterConfiguration v1beta4; v1beta3 uses a map: extraArgs: {{service-account-issuer: …}}):\ncat > kubeadm-apiserver-issuer.yaml <<'KCRED_EOF'\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  extraArgs:\n    - name: service-account-issuer\n      value: {}\n    - name: service-account-jwks-uri\n      value: {}\nKCRED_EOF\n#    (running cluster: edit /etc/kubernetes/manifests/kube-apiserver.yaml: --service-account-issuer={issuer} --service-account-jwks-uri={jwks_uri})\n## k3s (/etc/rancher/k3s/config.yaml on every server, then systemctl restart k3s):\ncat > k3s-apiserver-issuer.yaml <<'KCRED_EOF'\nkube-apiserver-arg:\n  - {}\n  - {}\nKCRED_EOF\n\n", q(issuer), q(&jwks_uri), q(&format!("service-account-issuer={issuer}")), q(&format!("service-account-jwks-uri={jwks_uri}"))));

    // 4. kubelet
    let gate = if token_support.gate_default {
        format!("#    Kubelet {v}: KubeletServiceAccountTokenForCredentialProviders is {} and on by default.\n", token_support.gate_stage)
    } else {
        format!("#    Kubelet {v}: KubeletServiceAccountTokenForCredentialProviders is {} and OFF by default: enable it.\n", token_support.gate_stage)
    };
    o.push_str(&format!("# 4. kubelet (every node): install {} in {}, then point the kubelet at the config.\n{gate}", cloud.plugin, a.bin_dir));
    let gate_flag = if token_support.gate_default {
        String::new()
    } else {
        " --feature-gates=KubeletServiceAccountTokenForCredentialProviders=true".to_owned()
    };
    o.push_str(&format!("## kubeadm (Debian/Ubuntu packages read /etc/default/kubelet; RPMs /etc/sysconfig/kubelet;
##   or kubeadm's nodeRegistration.kubeletExtraArgs), then systemctl restart kubelet:
cat > kubelet-extra-args <<'KCRED_EOF'
KUBELET_EXTRA_ARGS=\"--image-credential-provider-config={} --image-credential-provider-bin-dir={}{gate_flag}\"
KCRED_EOF
", a.provider_config, a.bin_dir));
    o.push_str(&format!("## k3s (/etc/rancher/k3s/config.yaml on every node):\ncat > k3s-kubelet-credential-providers.yaml <<'KCRED_EOF'\nkubelet-arg:\n  - {}\n  - {}\n", q(&format!("image-credential-provider-config={}", a.provider_config)), q(&format!("image-credential-provider-bin-dir={}", a.bin_dir))));
    if !token_support.gate_default {
        o.push_str(&format!(
            "  - {}\n",
            q("feature-gates=KubeletServiceAccountTokenForCredentialProviders=true")
        ));
    }
    o.push_str("KCRED_EOF\n");
    o.push_str(&cloud.node_files);
    o.push_str(&format!("## The CredentialProviderConfig ({}); check it with: kcred validate {} --kubelet-version {v}\ncat > credential-providers.yaml <<'KCRED_EOF'\napiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: {}\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    matchImages:\n", a.provider_config, a.provider_config, cloud.plugin));
    for m in cloud.match_images {
        o.push_str(&format!("      - {}\n", q(m)));
    }
    o.push_str(&format!(
        "    defaultCacheDuration: {}\n",
        q(cloud.default_cache)
    ));
    if !cloud.args.is_empty() {
        o.push_str("    args:\n");
        for arg in &cloud.args {
            o.push_str(&format!("      - {}\n", q(arg)));
        }
    }
    o.push_str(&format!("    tokenAttributes:\n      serviceAccountTokenAudience: {}\n      requireServiceAccount: false\n", q(&audience)));
    if token_support.cache_type_required {
        o.push_str("      cacheType: ServiceAccount\n");
    }
    o.push_str("      optionalServiceAccountAnnotationKeys:\n");
    for k in cloud.annotation_keys {
        o.push_str(&format!("        - {}\n", q(k)));
    }
    o.push_str("KCRED_EOF\n\n");

    let role = format!(
        "kcred-node-audience-{cloud_name}-{}-{}",
        a.namespace, a.service_account
    );
    let role: String = role.chars().take(253).collect();
    o.push_str(&format!("# 5. Node-audience RBAC: the kubelet may request tokens for this audience only when the nodes\n#    are allowed to (ServiceAccountNodeAudienceRestriction).\nkubectl apply -f - <<'KCRED_EOF'\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {r}\nrules:\n  - apiGroups: [\"\"]\n    resources: [{aud}]\n    resourceNames: [{sa}]\n    verbs: [\"request-serviceaccounts-token-audience\"]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {r}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: {r}\nsubjects:\n  - apiGroup: rbac.authorization.k8s.io\n    kind: Group\n    name: system:nodes\nKCRED_EOF\n\n", r = q(&role), aud = q(&audience), sa = q(&a.service_account)));

    o.push_str(&format!("# 6. The service account, with the annotations {} reads.\nkubectl apply -f - <<'KCRED_EOF'\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {}\n  namespace: {}\n  annotations:\n", cloud.plugin, q(&a.service_account), q(&a.namespace)));
    for (k, val) in &cloud.annotations {
        o.push_str(&format!("    {}: {}\n", q(k), q(val)));
    }
    o.push_str("KCRED_EOF\n\n");
    o.push_str(&format!("# 7. Check a real token end to end (exit 0 = every cloud check passes):\n#    kubectl create token {} -n {} --audience {} > token\n#    kcred oidc check --issuer {} --token token --audience {} --subject {}\n", a.service_account, a.namespace, sh(&audience), sh(issuer), sh(&audience), sh(&subject)));
    Ok(o)
}

fn azure(a: &PlanArgs, subject: &str) -> anyhow::Result<Cloud> {
    let rule = "letters, digits, '-', '_' and '.' only";
    let tenant = require(
        &a.azure_tenant_id,
        "--azure-tenant-id",
        "azure",
        id_chars,
        rule,
    )?;
    let client = require(
        &a.azure_client_id,
        "--azure-client-id",
        "azure",
        id_chars,
        rule,
    )?;
    let identity = require(
        &a.azure_identity_name,
        "--azure-identity-name",
        "azure",
        id_chars,
        rule,
    )?;
    let rg = require(
        &a.azure_resource_group,
        "--azure-resource-group",
        "azure",
        id_chars,
        rule,
    )?;
    let audience = a
        .audience
        .clone()
        .unwrap_or_else(|| "api://AzureADTokenExchange".to_owned());
    let fic = format!("kcred-{}-{}", a.namespace, a.service_account);
    let mut trust = format!("#    Entra ID: a federated identity credential on the managed identity (issuer, subject and\n#    audience are compared exactly with the token's iss, sub and aud).\naz identity federated-credential create --name {} --identity-name {} --resource-group {} \\\n  --issuer {} --subject {} --audiences {}\n", sh(&fic), sh(identity), sh(rg), sh(&a.issuer), sh(subject), sh(&audience));
    match &a.acr_name {
        Some(acr) if id_chars(acr) => trust.push_str(&format!("#    Pull access on the registry:\naz role assignment create --assignee {} --role AcrPull --scope \"$(az acr show --name {} --query id --output tsv)\"\n", sh(client), sh(acr))),
        Some(acr) => bail!("--acr-name {acr:?}: {rule}"),
        None => trust.push_str(&format!("#    Pull access: az role assignment create --assignee {client} --role AcrPull --scope <registry resource ID>\n")),
    }
    let node_files = format!("## /etc/kubernetes/azure.json (no secret: workload identity needs none):\ncat > azure.json <<'KCRED_EOF'\n{{\"cloud\": \"AzurePublicCloud\", \"tenantId\": {}}}\nKCRED_EOF\n", kcred_api::gostr::json_string(tenant));
    Ok(Cloud {
        plugin: "acr-credential-provider",
        audience,
        match_images: &[
            "*.azurecr.io",
            "*.azurecr.cn",
            "*.azurecr.de",
            "*.azurecr.us",
        ],
        default_cache: "10m",
        args: vec!["/etc/kubernetes/azure.json".to_owned()],
        annotation_keys: &[
            "kubernetes.azure.com/acr-client-id",
            "kubernetes.azure.com/acr-tenant-id",
        ],
        annotations: vec![
            (
                "kubernetes.azure.com/acr-client-id".to_owned(),
                client.to_owned(),
            ),
            (
                "kubernetes.azure.com/acr-tenant-id".to_owned(),
                tenant.to_owned(),
            ),
        ],
        trust,
        node_files,
    })
}

fn aws(a: &PlanArgs, subject: &str) -> anyhow::Result<Cloud> {
    let account = require(
        &a.aws_account_id,
        "--aws-account-id",
        "aws",
        |s| digits(12)(s),
        "must be 12 digits",
    )?;
    let role = a
        .aws_role_name
        .clone()
        .unwrap_or_else(|| format!("kcred-ecr-pull-{}-{}", a.namespace, a.service_account));
    let role: String = role.chars().take(64).collect();
    if !role
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    {
        bail!("--aws-role-name {role:?}: IAM role names use letters, digits and +=,.@_- only");
    }
    let audience = a
        .audience
        .clone()
        .unwrap_or_else(|| "sts.amazonaws.com".to_owned());
    let host_path = a
        .issuer
        .trim_start_matches("https://")
        .trim_end_matches('/');
    let provider_arn = format!("arn:aws:iam::{account}:oidc-provider/{host_path}");
    let role_arn = format!("arn:aws:iam::{account}:role/{role}");
    let policy = format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {{\n      \"Effect\": \"Allow\",\n      \"Principal\": {{\"Federated\": {}}},\n      \"Action\": \"sts:AssumeRoleWithWebIdentity\",\n      \"Condition\": {{\n        \"StringEquals\": {{\n          {}: {},\n          {}: {}\n        }}\n      }}\n    }}\n  ]\n}}\n",
        kcred_api::gostr::json_string(&provider_arn),
        kcred_api::gostr::json_string(&format!("{host_path}:aud")),
        kcred_api::gostr::json_string(&audience),
        kcred_api::gostr::json_string(&format!("{host_path}:sub")),
        kcred_api::gostr::json_string(subject),
    );
    let trust = format!("#    AWS: an IAM OIDC identity provider for the issuer (client ID = the token audience), a role\n#    that trusts it for exactly this service account, and ECR read access.\naws iam create-open-id-connect-provider --url {} --client-id-list {}\ncat > trust-policy.json <<'KCRED_EOF'\n{policy}KCRED_EOF\naws iam create-role --role-name {} --assume-role-policy-document file://trust-policy.json\naws iam attach-role-policy --role-name {} --policy-arn arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly\n", sh(&a.issuer), sh(&audience), sh(&role), sh(&role));
    Ok(Cloud {
        plugin: "ecr-credential-provider",
        audience,
        match_images: &[
            "*.dkr.ecr.*.amazonaws.com",
            "*.dkr-ecr.*.on.aws",
            "*.dkr.ecr.*.amazonaws.com.cn",
        ],
        default_cache: "12h",
        args: vec!["get-credentials".to_owned()],
        annotation_keys: &["eks.amazonaws.com/ecr-role-arn"],
        annotations: vec![("eks.amazonaws.com/ecr-role-arn".to_owned(), role_arn)],
        trust,
        node_files: String::new(),
    })
}

fn gcp(a: &PlanArgs, subject: &str) -> anyhow::Result<Cloud> {
    let project = require(
        &a.gcp_project_id,
        "--gcp-project-id",
        "gcp",
        |s| (6..=30).contains(&s.len()) && gcp_id(&s[..s.len().min(32)]),
        "6-30 lowercase letters, digits and hyphens, starting with a letter",
    )?;
    let number = require(
        &a.gcp_project_number,
        "--gcp-project-number",
        "gcp",
        project_number,
        "digits only",
    )?;
    for (flag, v) in [
        ("--gcp-pool", &a.gcp_pool),
        ("--gcp-provider", &a.gcp_provider),
    ] {
        if !gcp_id(v) {
            bail!(
                "{flag} {v:?}: 4-32 lowercase letters, digits and hyphens, starting with a letter"
            );
        }
    }
    let grant = |trust: &mut String, principal: &str| -> anyhow::Result<()> {
        match &a.gcp_repository {
            Some(r) if repo(r) => {
                let (loc, name) = r.split_once('/').unwrap_or_default();
                trust.push_str(&format!(
                    "gcloud artifacts repositories add-iam-policy-binding {} --project {} --location {} \\\n  --role roles/artifactregistry.reader --member {}\n",
                    sh(name), sh(project), sh(loc), sh(principal)
                ));
                Ok(())
            }
            Some(r) => bail!("--gcp-repository {r:?}: LOCATION/REPOSITORY"),
            None => {
                trust.push_str(&format!(
                    "#    Grant roles/artifactregistry.reader to {principal} on your repository.\n"
                ));
                Ok(())
            }
        }
    };
    let (audience, identity_provider, trust) = if let Some(m) = &a.gcp_fleet_membership {
        if !gcp_id(m) {
            bail!("--gcp-fleet-membership {m:?}: 4-32 lowercase letters, digits and hyphens, starting with a letter");
        }
        let pool = format!("{project}.svc.id.goog");
        let audience = a.audience.clone().unwrap_or_else(|| pool.clone());
        let idp = format!(
            "https://gkehub.googleapis.com/projects/{project}/locations/global/memberships/{m}"
        );
        let principal = format!(
            "principal://iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/{pool}/subject/ns/{}/sa/{}",
            a.namespace, a.service_account
        );
        let mut trust = format!(
            "#    Google Cloud, fleet workload identity: register the cluster with its public issuer; the\n#    fleet's identity namespace {pool} then trusts tokens with audience {pool}.\ngcloud container fleet memberships register {} --project {} --context \"$(kubectl config current-context)\" \\\n  --enable-workload-identity --public-issuer-url {}\n",
            sh(m), sh(project), sh(&a.issuer)
        );
        grant(&mut trust, &principal)?;
        (audience, idp, trust)
    } else {
        let pool_path = format!(
            "projects/{number}/locations/global/workloadIdentityPools/{}",
            a.gcp_pool
        );
        let provider_name = format!(
            "//iam.googleapis.com/{pool_path}/providers/{}",
            a.gcp_provider
        );
        let audience = a.audience.clone().unwrap_or_else(|| {
            format!(
                "https://iam.googleapis.com/{pool_path}/providers/{}",
                a.gcp_provider
            )
        });
        let principal = format!("principal://iam.googleapis.com/{pool_path}/subject/{subject}");
        let mut trust = format!(
            "#    Google Cloud: a workload identity pool with an OIDC provider for the issuer\n#    (google.subject = the token's sub), and read access for this service account's principal.\ngcloud iam workload-identity-pools create {} --project {} --location global\ngcloud iam workload-identity-pools providers create-oidc {} --project {} --location global \\\n  --workload-identity-pool {} --issuer-uri {} --allowed-audiences {} \\\n  --attribute-mapping google.subject=assertion.sub\n",
            sh(&a.gcp_pool), sh(project), sh(&a.gcp_provider), sh(project), sh(&a.gcp_pool), sh(&a.issuer), sh(&audience)
        );
        grant(&mut trust, &principal)?;
        trust.push_str(&format!(
            "#    The STS audience of this provider is {provider_name}.\n#    NOTE: auth-provider-gcp (upstream and kcred today) sends GKE's identity-namespace audience\n#    (identitynamespace:PROJECT.svc.id.goog:IDENTITY_PROVIDER) built from --project-id and\n#    --identity-provider; a plain workload identity pool needs the provider's full resource\n#    name instead. Until the plugin can send it, use --gcp-fleet-membership (fleet workload\n#    identity), which works today; see docs/workload-identity.md (GCP).\n"
        ));
        (audience, provider_name, trust)
    };
    Ok(Cloud {
        plugin: "auth-provider-gcp",
        audience,
        match_images: &[
            "container.cloud.google.com",
            "gcr.io",
            "*.gcr.io",
            "*.pkg.dev",
        ],
        default_cache: "1m",
        args: vec![
            "get-credentials".to_owned(),
            "--v=3".to_owned(),
            format!("--identity-provider={identity_provider}"),
            format!("--project-id={project}"),
        ],
        annotation_keys: &["iam.gke.io/enable-wi-image-pull"],
        annotations: vec![(
            "iam.gke.io/enable-wi-image-pull".to_owned(),
            "true".to_owned(),
        )],
        trust,
        node_files: String::new(),
    })
}
