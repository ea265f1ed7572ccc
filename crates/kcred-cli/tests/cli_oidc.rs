//! `kcred oidc discovery` and `kcred oidc check` end to end: documents written from openssl
//! keys, served over HTTPS on loopback with a test CA, checked live, with good and bad
//! tokens and bad inputs.

use std::process::{Command, Output};

use kcred_testutil::http_stub::StubResponse;
use kcred_testutil::oidc_idp::{serve_issuer_dir, KeyKind, ProjectedToken, SigningKey, TestCa};

fn kcred(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kcred"))
        .args(args)
        .env_remove("SSL_CERT_FILE")
        .output()
        .expect("kcred runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn conformance() -> serde_json::Value {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/oidc_discovery_cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn discovery_writes_kube_apiservers_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let c = conformance();
    let case = &c["cases"][0];
    std::fs::write(
        tmp.path().join("rsa.pub"),
        c["keys"]["rsa"].as_str().unwrap(),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("ec.pub"),
        c["keys"]["ecdsa"].as_str().unwrap(),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = kcred(&[
        "oidc",
        "discovery",
        "--issuer",
        case["issuer"].as_str().unwrap(),
        "--key",
        tmp.path().join("rsa.pub").to_str().unwrap(),
        "--key",
        tmp.path().join("ec.pub").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join(".well-known/openid-configuration")).unwrap(),
        case["want_config"].as_str().unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(out.join("openid/v1/jwks")).unwrap(),
        case["want_keyset"].as_str().unwrap()
    );
    assert!(
        stdout.contains("key JHJehTTTZlsspKHT-GaJxK7Kd1NQgZJu3fyK6K_QDYU RSA 2048-bit RS256"),
        "{stdout}"
    );
    assert!(stdout.contains("--service-account-issuer=https://issuer.example.com --service-account-jwks-uri=https://issuer.example.com/openid/v1/jwks"), "{stdout}");
}

#[test]
fn discovery_refuses_bad_input_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(tmp.path(), "sa", KeyKind::Rsa2048);
    let out = tmp.path().join("out");
    let private_text = std::fs::read_to_string(&key.private_pem).unwrap();
    let pubk = key.public_pem.to_str().unwrap();
    let notkey = tmp.path().join("notkey.txt");
    std::fs::write(&notkey, "hello\n").unwrap();
    for (args, want) in [
        (
            vec![
                "--issuer",
                "https://o.example",
                "--key",
                key.private_pem.to_str().unwrap(),
            ],
            "holds a private key (PEM \"PRIVATE KEY\")",
        ),
        (
            vec!["--issuer", "http://o.example", "--key", pubk],
            "issuer \"http://o.example\": must use the https scheme",
        ),
        (
            vec!["--issuer", "https://o.example?x=1", "--key", pubk],
            "may not include a query",
        ),
        (
            vec![
                "--issuer",
                "https://o.example",
                "--key",
                notkey.to_str().unwrap(),
            ],
            "notkey.txt: not a PEM public key",
        ),
        (
            vec![
                "--issuer",
                "https://o.example",
                "--key",
                pubk,
                "--key",
                pubk,
            ],
            "is the same key as",
        ),
        (
            vec![
                "--issuer",
                "https://o.example",
                "--key",
                pubk,
                "--jwks-uri",
                "http://o.example/jwks",
            ],
            "jwks_uri \"http://o.example/jwks\": must use the https scheme",
        ),
        (
            vec![
                "--issuer",
                "https://o.example",
                "--key",
                tmp.path().to_str().unwrap(),
            ],
            "not a regular file",
        ),
    ] {
        let mut full = vec!["oidc", "discovery", "--out", out.to_str().unwrap()];
        full.extend(args);
        let o = kcred(&full);
        let (stdout, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{full:?}: {stdout}{stderr}");
        assert!(stderr.contains(want), "{want:?} in {stderr}");
        for line in private_text.lines().filter(|l| !l.starts_with("-----")) {
            assert!(
                !stderr.contains(line) && !stdout.contains(line),
                "private key text printed"
            );
        }
        assert!(!out.exists(), "{full:?} wrote {}", out.display());
    }
}

/// An issuer on loopback: keys, documents written by `kcred oidc discovery`, served over HTTPS.
struct LiveIssuer {
    _tmp: tempfile::TempDir,
    ca: TestCa,
    key: SigningKey,
    other: SigningKey,
    issuer: String,
    _server: kcred_testutil::http_stub::StubServer,
}

fn live_issuer() -> LiveIssuer {
    let tmp = tempfile::tempdir().unwrap();
    let ca = TestCa::generate(&tmp.path().join("pki"), &[]);
    let key = SigningKey::generate(tmp.path(), "sa", KeyKind::Rsa2048);
    let other = SigningKey::generate(tmp.path(), "other", KeyKind::Rsa2048);
    let out = tmp.path().join("site");
    let server = serve_issuer_dir(&ca, &out, "/cluster1");
    let issuer = format!("https://127.0.0.1:{}/cluster1", server.port());
    let o = kcred(&[
        "oidc",
        "discovery",
        "--issuer",
        &issuer,
        "--key",
        key.public_pem.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    LiveIssuer {
        _tmp: tmp,
        ca,
        key,
        other,
        issuer,
        _server: server,
    }
}

fn check(li: &LiveIssuer, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec![
        "oidc",
        "check",
        "--issuer",
        li.issuer.as_str(),
        "--ca-file",
        li.ca.ca_crt.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = kcred(&args);
    let (a, b) = text(&o);
    (o.status.code(), a, b)
}

#[test]
fn check_accepts_a_good_issuer_and_token_and_never_prints_the_signature() {
    let li = live_issuer();
    let (code, stdout, stderr) = check(&li, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("Entra ID: would accept"), "{stdout}");
    let tok = ProjectedToken::new(&li.issuer, "api://AzureADTokenExchange", "team", "puller")
        .sign(&li.key);
    let path = li._tmp.path().join("token");
    std::fs::write(&path, &tok).unwrap();
    let (code, stdout, stderr) = check(
        &li,
        &[
            "--token",
            path.to_str().unwrap(),
            "--audience",
            "api://AzureADTokenExchange",
            "--subject",
            "system:serviceaccount:team:puller",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    for cloud in ["Entra ID", "AWS STS", "Google STS"] {
        assert!(
            stdout.contains(&format!("{cloud}: would accept")),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains(&format!("signature: RS256 with key {}", li.key.kid)),
        "{stdout}"
    );
    let sig = tok.rsplit('.').next().unwrap();
    assert!(!stdout.contains(sig) && !stderr.contains(sig));
}

#[test]
fn check_says_why_a_token_would_be_refused() {
    let li = live_issuer();
    let path = li._tmp.path().join("token");
    let mut t = ProjectedToken::new(&li.issuer, "api://AzureADTokenExchange", "team", "puller");
    let cases: Vec<(String, &str, &str)> = vec![
        (t.sign(&li.other), "FAIL  signature: the token's kid", "AADSTS7000272"),
        ({ let mut e = t.clone(); e.issued_at -= 7200; e.sign(&li.key) }, "FAIL  exp: expired at", "AADSTS700024"),
        ({ let mut a = t.clone(); a.audiences = vec!["sts.amazonaws.com".into()]; a.sign(&li.key) }, "FAIL  aud: [\"sts.amazonaws.com\"] does not contain \"api://AzureADTokenExchange\"", "AADSTS70021"),
        ({ t.service_account = "builder".into(); t.sign(&li.key) }, "FAIL  sub: \"system:serviceaccount:team:builder\", but the cloud's trust names \"system:serviceaccount:team:puller\"", "AADSTS70021"),
    ];
    for (tok, want, entra) in cases {
        std::fs::write(&path, &tok).unwrap();
        let (code, stdout, stderr) = check(
            &li,
            &[
                "--token",
                path.to_str().unwrap(),
                "--audience",
                "api://AzureADTokenExchange",
                "--subject",
                "system:serviceaccount:team:puller",
            ],
        );
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        assert!(stdout.contains(want), "{want:?} in {stdout}");
        assert!(
            stdout.contains("Entra ID: would REFUSE") && stdout.contains(entra),
            "{entra} in {stdout}"
        );
        assert!(!stdout.contains(tok.rsplit('.').next().unwrap()));
    }
}

#[test]
fn check_bad_inputs_name_the_input() {
    let li = live_issuer();
    let garbage = li._tmp.path().join("garbage");
    std::fs::write(&garbage, "not-a-token").unwrap();
    let (code, _, stderr) = check(&li, &["--token", garbage.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains(&format!(
            "{}: not a JWT: 1 dot-separated parts",
            garbage.display()
        )),
        "{stderr}"
    );

    let o = kcred(&["oidc", "check", "--issuer", "http://127.0.0.1:1/x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("must use the https scheme"),
        "{:?}",
        text(&o)
    );

    let port = kcred_testutil::registry::free_loopback_port();
    let url = format!("https://127.0.0.1:{port}/gone");
    let o = kcred(&["oidc", "check", "--issuer", &url]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o).1;
    assert!(
        stderr.contains(&format!(
            "GET {url}/.well-known/openid-configuration: unreachable"
        )),
        "{stderr}"
    );

    // Without the test CA the issuer's certificate is not trusted.
    let o = kcred(&["oidc", "check", "--issuer", &li.issuer]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("unreachable"), "{:?}", text(&o));
}

#[test]
fn check_refuses_documents_without_usable_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = TestCa::generate(&tmp.path().join("pki"), &[]);
    let port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let p2 = port.clone();
    let server = ca.start_https(move |req| {
        let iss = format!("https://127.0.0.1:{}", p2.get().copied().unwrap_or(0));
        match req.path() {
            "/.well-known/openid-configuration" => StubResponse::json(200, format!("{{\"issuer\":\"{iss}\",\"jwks_uri\":\"{iss}/keys\",\"response_types_supported\":[\"id_token\"],\"subject_types_supported\":[\"public\"],\"id_token_signing_alg_values_supported\":[\"RS256\"]}}")),
            "/keys" => StubResponse::json(200, r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#),
            _ => StubResponse::text(404, "no"),
        }
    });
    port.set(server.port()).unwrap();
    let iss = format!("https://127.0.0.1:{}", server.port());
    let o = kcred(&[
        "oidc",
        "check",
        "--issuer",
        &iss,
        "--ca-file",
        ca.ca_crt.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("FAIL  jwks: no usable key among 1"),
        "{stdout}"
    );
    assert!(stdout.contains("unsupported kty \"oct\""), "{stdout}");
    // An issuer whose document names another issuer.
    let o = kcred(&[
        "oidc",
        "check",
        "--issuer",
        &format!("{iss}/"),
        "--ca-file",
        ca.ca_crt.to_str().unwrap(),
    ]);
    let (stdout, _) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout.contains("trailing-slash"), "{stdout}");
}
