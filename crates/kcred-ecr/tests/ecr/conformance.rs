//! Every row of `tests/conformance/ecr_cases.json` (upstream v1.36.1 tests and derived
//! facts) against kcred's library: host parsing and classification, the `GetCredentials`
//! flow over a fake AWS API, service-account mode and cache durations. The `plugin_io` rows
//! run the binary and live in `tests/cli.rs`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use kcred_api::Secret;
use kcred_ecr::{
    cache_duration, get_credentials, plan_credentials, Api, ApiError, AuthorizationData, AwsApi,
    NoLog, Registry, RegistryKind, SessionCredentials, WebIdentityRole,
};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/ecr_cases.json"
    );
    let text = std::fs::read_to_string(path).expect("ecr_cases.json is readable");
    let v: Value = serde_json::from_str(&text).expect("ecr_cases.json is JSON");
    v.as_array().expect("top-level array").clone()
}

fn rows(kind: &str) -> Vec<Value> {
    cases().into_iter().filter(|c| c["kind"] == kind).collect()
}

fn label(case: &Value) -> String {
    format!("{} {:?} ({})", case["kind"], case["image"], case["note"])
}

/// Go `Duration.String()` for whole seconds, enough for the durations in the table.
fn go_seconds_string(nanos: i64) -> String {
    assert_eq!(nanos % 1_000_000_000, 0, "whole seconds");
    let s = nanos / 1_000_000_000;
    if s == 0 {
        return "0s".to_owned();
    }
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}h{m}m{sec}s")
    } else if m > 0 {
        format!("{m}m{sec}s")
    } else {
        format!("{sec}s")
    }
}

// ---------------------------------------------------------------------------------------
// host_pattern, region_from_host, host_from_image

fn check_host_row(case: &Value) {
    let image = case["image"].as_str().expect("image");
    let what = label(case);
    let registry = Registry::from_image(image);
    if let Some(error) = case.get("error") {
        let err = registry.expect_err(&what);
        assert_eq!(err.to_string(), error.as_str().unwrap(), "{what}");
        return;
    }
    let registry = registry.unwrap_or_else(|e| panic!("{what}: {e}"));
    let expect = &case["expect"];
    assert_eq!(
        registry.host,
        expect["host"].as_str().unwrap(),
        "{what}: host"
    );
    assert_eq!(
        registry.auth_key(),
        expect["auth_key"].as_str().unwrap(),
        "{what}: auth_key"
    );
    let private = registry.private();
    assert_eq!(
        private.is_some(),
        expect["is_ecr_private"] == true,
        "{what}: is_ecr_private"
    );
    assert_eq!(
        registry.kind == RegistryKind::Public,
        expect["is_ecr_public"] == true,
        "{what}: is_ecr_public"
    );
    // `region` is upstream's parseRegionFromECRPrivateHost: "" unless the private pattern
    // matched.
    assert_eq!(
        private.map_or("", |p| p.region.as_str()),
        expect["region"].as_str().unwrap(),
        "{what}: region"
    );
    assert_eq!(
        private.map(|p| p.registry_id.as_str()),
        expect["registry_id"].as_str(),
        "{what}: registry_id"
    );
    assert_eq!(
        private.is_some_and(|p| p.fips),
        expect["fips"] == true,
        "{what}: fips"
    );
    assert_eq!(
        private.is_some_and(|p| p.dualstack_form),
        expect["dualstack_form"] == true,
        "{what}: dualstack_form"
    );
    assert_eq!(
        private.map(|p| p.suffix.as_str()),
        expect["suffix"].as_str(),
        "{what}: suffix"
    );
    let api = match registry.api() {
        Api::Ecr => "ecr",
        Api::EcrPublic => "ecr-public",
    };
    assert_eq!(api, expect["api"].as_str().unwrap(), "{what}: api");
    assert_eq!(
        registry.region(),
        expect["sdk_region"].as_str(),
        "{what}: sdk_region"
    );
    // `legacy_v1_28_1_regex_match` records what upstream's pre-v1.28.2 pattern did; kcred
    // implements only the current (v1.36.1) pattern, so that historical fact is not checked.
}

#[test]
fn host_pattern_rows() {
    let rows = rows("host_pattern");
    assert_eq!(rows.len(), 25);
    rows.iter().for_each(check_host_row);
}

#[test]
fn region_from_host_rows() {
    let rows = rows("region_from_host");
    assert_eq!(rows.len(), 11);
    rows.iter().for_each(check_host_row);
}

#[test]
fn host_from_image_rows() {
    let rows = rows("host_from_image");
    assert_eq!(rows.len(), 22);
    rows.iter().for_each(check_host_row);
}

// ---------------------------------------------------------------------------------------
// get_credentials, get_credentials_sa: the flow over a fake AWS API built from `mock`.

/// A fake AWS API answering from a row's `mock` and recording the STS input.
struct MockApi {
    mock: Value,
    sts_inputs: RefCell<Vec<(String, String, String)>>,
    ecr_credentials: RefCell<Vec<Option<SessionCredentials>>>,
}

impl MockApi {
    fn new(mock: &Value) -> Self {
        MockApi {
            mock: mock.clone(),
            sts_inputs: RefCell::new(Vec::new()),
            ecr_credentials: RefCell::new(Vec::new()),
        }
    }
}

fn mock_error(v: &Value) -> Option<ApiError> {
    v.get("__error__")
        .and_then(Value::as_str)
        .map(|m| ApiError::from(m.to_owned()))
}

fn authorization_data(v: &Value) -> AuthorizationData {
    AuthorizationData {
        authorization_token: v
            .get("authorizationToken")
            .and_then(Value::as_str)
            .map(Secret::from),
        expires_at: v
            .get("expiresAt")
            .and_then(Value::as_u64)
            .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s)),
    }
}

impl AwsApi for MockApi {
    async fn assume_role_with_web_identity(
        &self,
        _registry: &Registry,
        role: &WebIdentityRole,
    ) -> Result<SessionCredentials, ApiError> {
        self.sts_inputs.borrow_mut().push((
            role.role_arn.clone(),
            role.session_name.to_owned(),
            role.web_identity_token.expose().to_owned(),
        ));
        let answer = self
            .mock
            .get("sts.AssumeRoleWithWebIdentity")
            .expect("STS is called only when the row mocks it");
        if let Some(e) = mock_error(answer) {
            return Err(e);
        }
        let c = &answer["Credentials"];
        Ok(SessionCredentials {
            access_key_id: c["AccessKeyId"].as_str().unwrap().to_owned(),
            secret_access_key: Secret::from(c["SecretAccessKey"].as_str().unwrap()),
            session_token: Secret::from(c["SessionToken"].as_str().unwrap()),
            expiration: None,
        })
    }

    async fn get_authorization_token(
        &self,
        registry: &Registry,
        credentials: Option<&SessionCredentials>,
    ) -> Result<Option<Vec<AuthorizationData>>, ApiError> {
        self.ecr_credentials.borrow_mut().push(credentials.cloned());
        let key = match registry.api() {
            Api::Ecr => "ecr.GetAuthorizationToken",
            Api::EcrPublic => "ecr-public.GetAuthorizationToken",
        };
        let answer = self
            .mock
            .get(key)
            .unwrap_or_else(|| panic!("{} called, but the row mocks only {}", key, self.mock));
        if answer.is_null() {
            return Ok(None);
        }
        if let Some(e) = mock_error(answer) {
            return Err(e);
        }
        let data = &answer["authorizationData"];
        Ok(Some(match registry.api() {
            Api::Ecr => data
                .as_array()
                .map(|a| a.iter().map(authorization_data).collect())
                .unwrap_or_default(),
            // ECR Public answers a single object (absent → nothing).
            Api::EcrPublic => data
                .as_object()
                .map(|_| vec![authorization_data(data)])
                .unwrap_or_default(),
        }))
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn run_get_credentials_row(case: &Value) {
    let what = label(case);
    let image = case["image"].as_str().unwrap();
    let request = case.get("request").cloned().unwrap_or(Value::Null);
    let token = request["serviceAccountToken"].as_str().map(Secret::from);
    let annotations: BTreeMap<String, String> = request["serviceAccountAnnotations"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    // `env.AWS_ECR_ROLE_ARN: null` means unset; rows without `env` also run with it unset.
    let env_role_arn = case["env"]["AWS_ECR_ROLE_ARN"].as_str();
    let api = MockApi::new(&case["mock"]);
    let result = block_on(async {
        let registry = Registry::from_image(image)?;
        let plan = plan_credentials(token.as_ref(), &annotations, env_role_arn);
        get_credentials(&api, &registry, &plan, SystemTime::now(), &NoLog).await
    });
    if let Some(error) = case.get("error") {
        let err = result.expect_err(&what);
        assert_eq!(err.to_string(), error.as_str().unwrap(), "{what}");
        return;
    }
    let creds = result.unwrap_or_else(|e| panic!("{what}: {e}"));
    let expect = &case["expect"];
    let want = &expect["response"];
    let response = creds.into_response(kcred_api::ApiVersion::V1);
    assert_eq!(response.api_version.as_str(), want["apiVersion"], "{what}");
    assert_eq!(response.cache_key_type, want["cacheKeyType"], "{what}");
    let duration = response
        .cache_duration
        .expect("cacheDuration is always set")
        .0;
    assert_eq!(go_seconds_string(duration), want["cacheDuration"], "{what}");
    let want_auth = want["auth"].as_object().unwrap();
    assert_eq!(
        response.auth.len(),
        want_auth.len(),
        "{what}: one auth entry"
    );
    for (key, entry) in want_auth {
        let got = response
            .auth
            .get(key)
            .unwrap_or_else(|| panic!("{what}: auth {key}"));
        assert_eq!(got.username, entry["username"], "{what}");
        assert_eq!(got.password.expose(), entry["password"], "{what}");
    }
    if let Some(sts) = expect.get("sts_input") {
        let inputs = api.sts_inputs.borrow();
        assert_eq!(inputs.len(), 1, "{what}: one STS call");
        assert_eq!(inputs[0].0, sts["RoleArn"], "{what}");
        assert_eq!(inputs[0].1, sts["RoleSessionName"], "{what}");
        assert_eq!(inputs[0].2, sts["WebIdentityToken"], "{what}");
        // The ECR call used the assumed role's credentials.
        let ecr = api.ecr_credentials.borrow();
        assert_eq!(
            ecr[0].as_ref().map(|c| c.access_key_id.as_str()),
            Some("access-key-id"),
            "{what}"
        );
    }
    if expect.get("sts_called") == Some(&Value::Bool(false)) {
        assert!(api.sts_inputs.borrow().is_empty(), "{what}: no STS call");
        assert_eq!(api.ecr_credentials.borrow()[0], None, "{what}: node chain");
    }
}

#[test]
fn get_credentials_rows() {
    let rows = rows("get_credentials");
    assert_eq!(rows.len(), 17);
    rows.iter().for_each(run_get_credentials_row);
}

#[test]
fn get_credentials_sa_rows() {
    let rows = rows("get_credentials_sa");
    assert_eq!(rows.len(), 3);
    rows.iter().for_each(run_get_credentials_row);
}

// ---------------------------------------------------------------------------------------
// cache_duration

#[test]
fn cache_duration_rows() {
    let rows = rows("cache_duration");
    assert_eq!(rows.len(), 4);
    let now = SystemTime::now();
    for case in &rows {
        let what = label(case);
        let expires_at = case["expires_in_seconds"].as_i64().map(|s| {
            if s >= 0 {
                now + Duration::from_secs(s as u64)
            } else {
                now - Duration::from_secs(s.unsigned_abs())
            }
        });
        let got = go_seconds_string(cache_duration(expires_at, now).0);
        match case["expect"]["cacheDuration"].as_str() {
            Some(want) => assert_eq!(got, want, "{what}"),
            // Deliberate difference (the two derived rows, expiry in the past or within
            // 1 s): upstream omits cacheDuration, so the kubelet caches the expired token
            // for defaultCacheDuration (typically 12 h). kcred answers "0s": not cached.
            None => assert_eq!(got, "0s", "{what}"),
        }
    }
}
