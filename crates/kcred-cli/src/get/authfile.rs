//! Credential files other tools read: a containers `auth.json` (`skopeo`, `podman`,
//! `buildah` `--authfile`) and the data of a `kubernetes.io/dockerconfigjson` secret (a
//! docker `config.json`).
//!
//! Both hold the first credential the kubelet would try, keyed by the image's registry
//! (`host[:port]`), so `skopeo inspect --authfile F docker://IMAGE` uses it. Docker Hub is
//! keyed as each tool family writes it: `docker.io` in `auth.json` (what `podman login`
//! writes), `https://index.docker.io/v1/` in `dockerconfigjson` (what `docker login` and
//! `kubectl create secret docker-registry` write; the kubelet finds it through its Docker
//! Hub fallback).
//!
//! Both carry `auth`, base64 of `username:password`, which every reader (the kubelet's
//! `decodeDockerConfigFieldAuth`, docker's `decodeAuth`, containers/image) splits at the
//! first ':'. A username holding ':' would be read back as a different user, so such a
//! credential is refused with an error rather than written.

use base64::Engine as _;
use kcred_api::gostr::strconv_quote;
use kcred_match::keyring::TrackedAuthConfig;
use serde_json::{json, Map, Value};

use super::GetFormat;

/// The registry part of every normalised Docker Hub image name.
const DOCKER_HUB_REGISTRY: &str = "docker.io";
/// The key `docker login` uses for Docker Hub.
const DOCKER_HUB_LEGACY_KEY: &str = "https://index.docker.io/v1/";

/// The file for `format` (`Dockerconfigjson` or `AuthJson`) holding `credential` under
/// `registry`; `{"auths":{}}` when there is no credential (an anonymous pull). Fails when
/// the username contains ':' (see the module docs).
pub(super) fn document(
    format: GetFormat,
    registry: &str,
    credential: Option<&TrackedAuthConfig>,
) -> anyhow::Result<Value> {
    let mut auths = Map::new();
    if let Some(c) = credential {
        if c.username.contains(':') {
            anyhow::bail!(
                "cannot write the credential for {} as an auth file: the username {} contains ':', \
                 and the file's \"auth\" field (base64 of \"username:password\") is split at the \
                 first ':', so readers would see a different user; use --output table or json",
                strconv_quote(registry),
                strconv_quote(&c.username)
            );
        }
        let auth = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            c.username,
            c.password.expose()
        ));
        let (key, entry) = match format {
            GetFormat::Dockerconfigjson => {
                let key = if registry == DOCKER_HUB_REGISTRY {
                    DOCKER_HUB_LEGACY_KEY
                } else {
                    registry
                };
                let mut entry = json!({
                    "username": c.username,
                    "password": c.password.expose(),
                    "auth": auth,
                });
                if !c.email.is_empty() {
                    entry["email"] = json!(c.email);
                }
                (key, entry)
            }
            _ => (registry, json!({ "auth": auth })),
        };
        auths.insert(key.to_owned(), entry);
    }
    Ok(json!({ "auths": auths }))
}

#[cfg(test)]
mod tests {
    use kcred_api::Secret;
    use kcred_match::keyring::{parse_config_json, DockerKeyring};

    use super::*;

    fn credential(user: &str, pass: &str) -> TrackedAuthConfig {
        TrackedAuthConfig {
            username: user.to_owned(),
            password: Secret::new(pass),
            email: String::new(),
            source: None,
            key: "r.io".into(),
            location: "r.io".into(),
            config_index: 0,
            docker_hub_fallback: false,
        }
    }

    #[test]
    fn auth_json_holds_base64_user_colon_password() {
        let doc = document(
            GetFormat::AuthJson,
            "127.0.0.1:5000",
            Some(&credential("alice", "pa:ss")),
        )
        .unwrap();
        assert_eq!(
            doc,
            json!({"auths": {"127.0.0.1:5000": {"auth": "YWxpY2U6cGE6c3M="}}})
        );
    }

    #[test]
    fn no_credential_is_an_empty_auths_map() {
        for format in [GetFormat::AuthJson, GetFormat::Dockerconfigjson] {
            assert_eq!(
                document(format, "r.io", None).unwrap(),
                json!({"auths": {}})
            );
        }
    }

    /// The kubelet reads a dockerconfigjson secret with the same keyring: the file must give
    /// the credential back for the image, Docker Hub included.
    #[test]
    fn dockerconfigjson_is_read_back_by_the_kubelet_keyring() {
        for (registry, image) in [
            ("r.io:5000", "r.io:5000/team/app"),
            ("docker.io", "docker.io/library/nginx"),
        ] {
            let doc = document(
                GetFormat::Dockerconfigjson,
                registry,
                Some(&credential("u", "p")),
            )
            .unwrap();
            let bytes = serde_json::to_vec(&doc).unwrap();
            let config = parse_config_json(&bytes).unwrap();
            let mut keyring = DockerKeyring::new();
            keyring.add(None, &config);
            let found = keyring.lookup(image);
            assert_eq!(found.len(), 1, "{image}");
            assert_eq!(found[0].username, "u");
            assert_eq!(found[0].password.expose(), "p");
        }
    }
}
