//! Keys made by openssl (RSA, P-256, P-384, P-521; SPKI and PKCS#1), tokens signed like
//! kube-apiserver's, and the checks an IdP makes on them.

use kcred_oidc::verify::{
    check_documents, check_token, parse_jwks, Cloud, IssuerView, Status, TokenExpectations,
};
use kcred_oidc::{issuer_documents, parse_public_keys_pem, Jwt};
use kcred_testutil::oidc_idp::{now, KeyKind, ProjectedToken, SigningKey};
use kcred_testutil::pki::openssl;

const ISSUER: &str = "https://oidc.example.net/cluster1";

fn view_for(keys: &[&SigningKey]) -> IssuerView {
    let parsed: Vec<(String, kcred_oidc::PublicKey)> = keys
        .iter()
        .map(|k| {
            let pem = std::fs::read(&k.public_pem).unwrap();
            (
                k.public_pem.display().to_string(),
                parse_public_keys_pem("k", &pem).unwrap().remove(0),
            )
        })
        .collect();
    let docs = issuer_documents(ISSUER, &format!("{ISSUER}/openid/v1/jwks"), &parsed).unwrap();
    IssuerView {
        issuer: ISSUER.to_owned(),
        config: serde_json::from_str(&docs.openid_configuration).unwrap(),
        keys: parse_jwks(docs.jwks.as_bytes()).unwrap(),
    }
}

fn want(aud: &str) -> TokenExpectations {
    TokenExpectations {
        audience: Some(aud.to_owned()),
        subject: Some("system:serviceaccount:team:puller".to_owned()),
        now: now(),
        skew_secs: 300,
    }
}

fn failed_checks(r: &kcred_oidc::Report) -> Vec<&'static str> {
    r.findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.check)
        .collect()
}

#[test]
fn openssl_keys_of_every_kind_publish_with_kube_apiservers_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.key",
        ],
    );
    openssl(d, &["pkey", "-in", "rsa.key", "-pubout", "-out", "rsa.pub"]);
    openssl(
        d,
        &[
            "rsa",
            "-in",
            "rsa.key",
            "-RSAPublicKey_out",
            "-out",
            "rsa.pkcs1.pub",
        ],
    );
    for (curve, crv, len) in [
        ("P-256", "P-256", 32),
        ("P-384", "P-384", 48),
        ("P-521", "P-521", 66),
    ] {
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                &format!("ec_paramgen_curve:{curve}"),
                "-out",
                "ec.key",
            ],
        );
        openssl(d, &["pkey", "-in", "ec.key", "-pubout", "-out", "ec.pub"]);
        let k = parse_public_keys_pem("ec.pub", &std::fs::read(d.join("ec.pub")).unwrap())
            .unwrap()
            .remove(0);
        let jwk: serde_json::Value = serde_json::from_str(&k.jwk_json()).unwrap();
        assert_eq!(jwk["crv"], crv);
        let keys: Vec<&str> = jwk
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 7);
        use base64::Engine;
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwk["x"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            x.len(),
            len,
            "{curve} coordinates are padded to the curve size"
        );
        // The SPKI kcred re-encodes is the file's DER (openssl writes Go's encoding too).
        openssl(
            d,
            &[
                "pkey", "-pubin", "-in", "ec.pub", "-outform", "DER", "-out", "ec.der",
            ],
        );
        assert_eq!(
            k.spki_der(),
            std::fs::read(d.join("ec.der")).unwrap(),
            "{curve}"
        );
    }
    let spki =
        parse_public_keys_pem("rsa.pub", &std::fs::read(d.join("rsa.pub")).unwrap()).unwrap();
    let pkcs1 = parse_public_keys_pem(
        "rsa.pkcs1.pub",
        &std::fs::read(d.join("rsa.pkcs1.pub")).unwrap(),
    )
    .unwrap();
    assert_eq!(spki, pkcs1);
    assert_eq!(spki[0].rsa_bits(), 2048);
    openssl(
        d,
        &[
            "pkey", "-pubin", "-in", "rsa.pub", "-outform", "DER", "-out", "rsa.der",
        ],
    );
    assert_eq!(
        spki[0].spki_der(),
        std::fs::read(d.join("rsa.der")).unwrap(),
        "RSA SPKI re-encoded as Go's MarshalPKIXPublicKey (and openssl) write it"
    );
    // The private key is refused, and its text is not echoed.
    let err = parse_public_keys_pem("rsa.key", &std::fs::read(d.join("rsa.key")).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("private key"), "{err}");
    let key_text = std::fs::read_to_string(d.join("rsa.key")).unwrap();
    let body_line = key_text.lines().nth(1).unwrap();
    assert!(!err.contains(body_line));
    let err =
        parse_public_keys_pem("ec.key", &std::fs::read(d.join("ec.key")).unwrap()).unwrap_err();
    assert!(err.to_string().contains("private key"));
}

#[test]
fn ed25519_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    openssl(
        tmp.path(),
        &["genpkey", "-algorithm", "ED25519", "-out", "ed.key"],
    );
    openssl(
        tmp.path(),
        &["pkey", "-in", "ed.key", "-pubout", "-out", "ed.pub"],
    );
    let err = parse_public_keys_pem("ed.pub", &std::fs::read(tmp.path().join("ed.pub")).unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("1.3.101.112"), "{err}");
}

#[test]
fn a_kube_apiserver_shaped_token_passes_every_check() {
    let tmp = tempfile::tempdir().unwrap();
    for kind in [KeyKind::Rsa2048, KeyKind::P256, KeyKind::P384] {
        let key = SigningKey::generate(tmp.path(), &format!("{kind:?}"), kind);
        let view = view_for(&[&key]);
        assert!(!check_documents(&view).failed());
        let tok =
            ProjectedToken::new(ISSUER, "api://AzureADTokenExchange", "team", "puller").sign(&key);
        let jwt = Jwt::parse("t", &tok).unwrap();
        let r = check_token(&view, &jwt, &want("api://AzureADTokenExchange"));
        assert!(
            failed_checks(&r).is_empty(),
            "{kind:?}: {}",
            r.render_findings()
        );
        // Entra takes RS256 only; Google RS256/ES256; AWS all three.
        let refused: Vec<Cloud> = Cloud::ALL
            .into_iter()
            .filter(|c| !r.refusals(*c).is_empty())
            .collect();
        match kind {
            KeyKind::Rsa2048 => assert!(refused.is_empty()),
            KeyKind::P256 => assert_eq!(refused, vec![Cloud::Entra]),
            KeyKind::P384 => assert_eq!(refused, vec![Cloud::Entra, Cloud::GoogleSts]),
        }
    }
}

#[test]
fn each_broken_token_fails_the_check_that_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(tmp.path(), "current", KeyKind::Rsa2048);
    let other = SigningKey::generate(tmp.path(), "other", KeyKind::Rsa2048);
    let view = view_for(&[&key]);
    let good = ProjectedToken::new(ISSUER, "sts.amazonaws.com", "team", "puller");
    let check = |t: &ProjectedToken, k: &SigningKey, aud: &str| {
        let jwt = Jwt::parse("t", &t.sign(k)).unwrap();
        check_token(&view, &jwt, &want(aud))
    };
    assert!(failed_checks(&check(&good, &key, "sts.amazonaws.com")).is_empty());
    // Signed by an unpublished key.
    let r = check(&good, &other, "sts.amazonaws.com");
    assert_eq!(failed_checks(&r), vec!["signature"]);
    assert!(
        r.render_verdicts(&[Cloud::Entra]).contains("AADSTS7000272"),
        "{}",
        r.render_verdicts(&[Cloud::Entra])
    );
    // Expired.
    let mut old = good.clone();
    old.issued_at -= 7200;
    let r = check(&old, &key, "sts.amazonaws.com");
    assert_eq!(failed_checks(&r), vec!["exp"]);
    assert!(r
        .render_verdicts(&[Cloud::AwsSts])
        .contains("ExpiredTokenException"));
    // Wrong audience.
    let r = check(&good, &key, "api://AzureADTokenExchange");
    assert_eq!(failed_checks(&r), vec!["aud"]);
    // Wrong subject.
    let mut other_sa = good.clone();
    other_sa.service_account = "builder".to_owned();
    let r = check(&other_sa, &key, "sts.amazonaws.com");
    assert_eq!(failed_checks(&r), vec!["sub"]);
    // Wrong issuer.
    let mut wrong_iss = good.clone();
    wrong_iss.issuer = "https://kubernetes.default.svc.cluster.local".to_owned();
    let r = check(&wrong_iss, &key, "sts.amazonaws.com");
    assert_eq!(failed_checks(&r), vec!["iss"]);
    assert!(r.render_verdicts(&[Cloud::Entra]).contains("AADSTS700211"));
    // A kid that is published but a signature made by another key (tampered token).
    let tok = good.sign(&key);
    let forged = other.sign(&good.claims());
    let (head, _) = tok.rsplit_once('.').unwrap();
    let (_, sig) = forged.rsplit_once('.').unwrap();
    let jwt = Jwt::parse("t", &format!("{head}.{sig}")).unwrap();
    let r = check_token(&view, &jwt, &want("sts.amazonaws.com"));
    assert_eq!(failed_checks(&r), vec!["signature"]);
}

#[test]
fn rotation_two_keys_both_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let new = SigningKey::generate(tmp.path(), "new", KeyKind::Rsa2048);
    let old = SigningKey::generate(tmp.path(), "old", KeyKind::P256);
    let view = view_for(&[&new, &old]);
    assert_eq!(
        view.config["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256", "RS256"])
    );
    for k in [&new, &old] {
        let jwt = Jwt::parse(
            "t",
            &ProjectedToken::new(ISSUER, "a", "team", "puller").sign(k),
        )
        .unwrap();
        assert!(failed_checks(&check_token(&view, &jwt, &want("a"))).is_empty());
    }
}

#[test]
fn documents_that_clouds_refuse() {
    let tmp = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(tmp.path(), "k", KeyKind::Rsa2048);
    let mut view = view_for(&[&key]);
    view.issuer = format!("{ISSUER}/");
    let r = check_documents(&view);
    assert_eq!(failed_checks(&r), vec!["issuer"]);
    assert!(
        r.render_findings().contains("trailing-slash"),
        "{}",
        r.render_findings()
    );
    let mut view = view_for(&[&key]);
    view.config["jwks_uri"] = "http://oidc.example.net/jwks".into();
    assert_eq!(failed_checks(&check_documents(&view)), vec!["jwks_uri"]);
    let mut view = view_for(&[&key]);
    view.keys = parse_jwks(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"RSA","n":"AQAB","e":"AQAB","use":"enc"}]}"#).unwrap();
    assert_eq!(failed_checks(&check_documents(&view)), vec!["jwks"]);
    assert!(parse_jwks(b"[]").is_err());
}
