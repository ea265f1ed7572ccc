//! Azure clouds: the AAD authority and ACR DNS suffix of each, Azure Stack's environment file and
//! the ARM metadata document (`{resourceManagerEndpoint}/metadata/endpoints`).

/// The endpoints kcred needs from a cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudEnvironment {
    /// The cloud's name as kcred reports it.
    pub name: String,
    /// The AAD authority host, e.g. `https://login.microsoftonline.com/` (trailing `/`).
    pub authority_host: String,
    /// The ACR login-server suffix, e.g. `azurecr.io` (no leading dot).
    pub acr_suffix: String,
}

/// Which built-in cloud a `cloud` value names (trimmed, case-insensitive; unknown → public).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownCloud {
    /// `AzurePublicCloud` / `AzureCloud` / anything unknown.
    Public,
    /// `AzureChinaCloud`.
    China,
    /// `AzureUSGovernment` / `AzureUSGovernmentCloud`.
    UsGovernment,
    /// `AzureStackCloud`: endpoints come from `AZURE_ENVIRONMENT_FILEPATH`.
    Stack,
}

impl KnownCloud {
    /// Classifies a `cloud` value.
    pub fn from_name(cloud: &str) -> KnownCloud {
        let c = cloud.trim().to_ascii_lowercase();
        match c.as_str() {
            "azurechinacloud" => KnownCloud::China,
            "azureusgovernment" | "azureusgovernmentcloud" => KnownCloud::UsGovernment,
            "azurestackcloud" => KnownCloud::Stack,
            _ => KnownCloud::Public,
        }
    }

    /// The built-in environment (Azure Stack starts from public's and is overridden).
    pub fn environment(self) -> CloudEnvironment {
        let (name, authority, suffix) = match self {
            KnownCloud::Public | KnownCloud::Stack => (
                "AzurePublicCloud",
                "https://login.microsoftonline.com/",
                "azurecr.io",
            ),
            KnownCloud::China => (
                "AzureChinaCloud",
                "https://login.chinacloudapi.cn/",
                "azurecr.cn",
            ),
            KnownCloud::UsGovernment => (
                "AzureUSGovernment",
                "https://login.microsoftonline.us/",
                "azurecr.us",
            ),
        };
        CloudEnvironment {
            name: if self == KnownCloud::Stack {
                "AzureStackCloud".to_owned()
            } else {
                name.to_owned()
            },
            authority_host: authority.to_owned(),
            acr_suffix: suffix.to_owned(),
        }
    }
}

/// Endpoint overrides read from an environment file or the ARM metadata document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EndpointOverrides {
    /// The AAD authority (`activeDirectoryEndpoint` / `authentication.loginEndpoint`).
    pub authority_host: Option<String>,
    /// The ACR suffix (`containerRegistryDNSSuffix` / `suffixes.acrLoginServer`).
    pub acr_suffix: Option<String>,
}

impl EndpointOverrides {
    /// Applies the overrides to `env`.
    pub(crate) fn apply(&self, env: &mut CloudEnvironment) {
        if let Some(a) = self.authority_host.as_deref().filter(|a| !a.is_empty()) {
            env.authority_host = with_trailing_slash(a);
        }
        if let Some(s) = self.acr_suffix.as_deref().filter(|s| !s.is_empty()) {
            env.acr_suffix = s.trim_start_matches('.').to_owned();
        }
    }
}

/// `a` with exactly one trailing `/`.
pub(crate) fn with_trailing_slash(a: &str) -> String {
    format!("{}/", a.trim_end_matches('/'))
}

/// A malformed environment file or metadata document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {reason}")]
pub(crate) struct EnvironmentDocError {
    /// Which document.
    pub what: &'static str,
    /// Why it was rejected.
    pub reason: String,
}

fn get_ci<'a>(
    obj: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
) -> Option<&'a serde_json::Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| kcred_api::go::json::equal_fold(k, key))
            .map(|(_, v)| v)
    })
}

fn get_str(obj: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<String> {
    get_ci(obj, key).and_then(|v| v.as_str()).map(str::to_owned)
}

/// Parses an Azure Stack environment file (go-autorest `Environment` JSON).
pub(crate) fn parse_environment_file(
    bytes: &[u8],
) -> Result<EndpointOverrides, EnvironmentDocError> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| EnvironmentDocError {
        what: "environment file",
        reason: e.to_string(),
    })?;
    let obj = v.as_object().ok_or_else(|| EnvironmentDocError {
        what: "environment file",
        reason: "not a JSON object".to_owned(),
    })?;
    Ok(EndpointOverrides {
        authority_host: get_str(obj, "activeDirectoryEndpoint"),
        acr_suffix: get_str(obj, "containerRegistryDNSSuffix"),
    })
}

/// Parses ARM's `metadata/endpoints` document: one object (older api-versions) or an array of
/// clouds, of which the one whose `resourceManager` is `resource_manager_endpoint` (else the
/// first) is used.
pub(crate) fn parse_arm_metadata(
    bytes: &[u8],
    resource_manager_endpoint: &str,
) -> Result<EndpointOverrides, EnvironmentDocError> {
    let err = |reason: String| EnvironmentDocError {
        what: "ARM metadata",
        reason,
    };
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| err(e.to_string()))?;
    let clouds: Vec<&serde_json::Map<String, serde_json::Value>> = match &v {
        serde_json::Value::Object(o) => vec![o],
        serde_json::Value::Array(a) => a.iter().filter_map(|c| c.as_object()).collect(),
        _ => Vec::new(),
    };
    let want = resource_manager_endpoint.trim_end_matches('/');
    let cloud = clouds
        .iter()
        .find(|c| {
            get_str(c, "resourceManager")
                .is_some_and(|rm| rm.trim_end_matches('/').eq_ignore_ascii_case(want))
        })
        .or_else(|| clouds.first())
        .ok_or_else(|| err("no cloud in the document".to_owned()))?;
    let authority = get_ci(cloud, "authentication")
        .and_then(|a| a.as_object())
        .and_then(|a| get_str(a, "loginEndpoint"));
    let suffix = get_ci(cloud, "suffixes")
        .and_then(|s| s.as_object())
        .and_then(|s| get_str(s, "acrLoginServer"));
    Ok(EndpointOverrides {
        authority_host: authority,
        acr_suffix: suffix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_names() {
        assert_eq!(
            KnownCloud::from_name(" azurechinacloud "),
            KnownCloud::China
        );
        assert_eq!(
            KnownCloud::from_name("AzureUSGovernmentCloud"),
            KnownCloud::UsGovernment
        );
        assert_eq!(KnownCloud::from_name("NoSuchCloud"), KnownCloud::Public);
        assert_eq!(KnownCloud::China.environment().acr_suffix, "azurecr.cn");
        assert_eq!(
            KnownCloud::UsGovernment.environment().authority_host,
            "https://login.microsoftonline.us/"
        );
    }

    #[test]
    fn metadata_array_picks_matching_cloud() {
        let doc = br#"[{"resourceManager":"https://a/","authentication":{"loginEndpoint":"https://la"},"suffixes":{"acrLoginServer":"acr.a"}},
                       {"resourceManager":"https://management.local/","authentication":{"loginEndpoint":"https://login.local/adfs"},"suffixes":{"acrLoginServer":".azsacr.local"}}]"#;
        let o = parse_arm_metadata(doc, "https://management.local").unwrap();
        let mut env = KnownCloud::Stack.environment();
        o.apply(&mut env);
        assert_eq!(env.authority_host, "https://login.local/adfs/");
        assert_eq!(env.acr_suffix, "azsacr.local");
    }

    #[test]
    fn environment_file() {
        let o = parse_environment_file(br#"{"name":"x","activeDirectoryEndpoint":"https://login.x/","containerRegistryDNSSuffix":"acr.x"}"#).unwrap();
        assert_eq!(o.authority_host.as_deref(), Some("https://login.x/"));
        assert_eq!(o.acr_suffix.as_deref(), Some("acr.x"));
        assert!(parse_environment_file(b"[").is_err());
    }
}
