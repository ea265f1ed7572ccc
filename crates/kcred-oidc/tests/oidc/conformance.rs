//! kube-apiserver's own expectations (tests/conformance/oidc_discovery_cases.json, from
//! kubernetes/kubernetes pkg/serviceaccount openidmetadata_test.go, keyid_test.go and
//! jwt_test.go): the exact served bytes, key IDs, and the URL rules.

use kcred_oidc::{issuer_documents, parse_public_keys_pem, PublicKey};
use serde_json::Value;

fn cases() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conformance/oidc_discovery_cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("conformance file")).expect("JSON")
}

fn key(doc: &Value, name: &str) -> PublicKey {
    let pem = doc["keys"][name].as_str().expect("key pem");
    let mut keys = parse_public_keys_pem(name, pem.as_bytes()).expect("parses");
    assert_eq!(keys.len(), 1);
    keys.remove(0)
}

#[test]
fn key_ids_are_kube_apiservers() {
    let doc = cases();
    for name in ["rsa", "ecdsa"] {
        assert_eq!(
            key(&doc, name).key_id(),
            doc["key_ids"][name].as_str().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn documents_are_byte_for_byte_kube_apiservers() {
    let doc = cases();
    let mut ran = 0;
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let keys: Vec<(String, PublicKey)> = case["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k.as_str().unwrap().to_owned(),
                    key(&doc, k.as_str().unwrap()),
                )
            })
            .collect();
        let got = issuer_documents(
            case["issuer"].as_str().unwrap(),
            case["jwks_uri"].as_str().unwrap(),
            &keys,
        );
        if case["err"].as_bool() == Some(true) {
            assert!(got.is_err(), "{name}: want an error, got {got:?}");
        } else {
            let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                got.openid_configuration,
                case["want_config"].as_str().unwrap(),
                "{name}"
            );
            assert_eq!(got.jwks, case["want_keyset"].as_str().unwrap(), "{name}");
        }
        ran += 1;
    }
    assert_eq!(ran, 11);
}

#[test]
fn pkcs1_and_spki_files_of_one_key_share_the_key_id() {
    let doc = cases();
    let rsa = key(&doc, "rsa");
    let pkcs1 = format!(
        "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
        base64_std(&rsa.pkcs1_der())
    );
    let again = parse_public_keys_pem("pkcs1.pem", pkcs1.as_bytes()).unwrap();
    assert_eq!(again, vec![rsa.clone()]);
    assert_eq!(again[0].key_id(), doc["key_ids"]["rsa"].as_str().unwrap());
    // The PEM kcred writes back parses to the same key; the SPKI is the input's DER.
    let round = parse_public_keys_pem("round.pem", rsa.to_pem().as_bytes()).unwrap();
    assert_eq!(round, vec![rsa]);
}

#[test]
fn a_file_with_both_keys_yields_both_in_order() {
    let doc = cases();
    let both = format!(
        "{}\n{}",
        doc["keys"]["rsa"].as_str().unwrap(),
        doc["keys"]["ecdsa"].as_str().unwrap()
    );
    let keys = parse_public_keys_pem("both.pem", both.as_bytes()).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].algorithm(), "RS256");
    assert_eq!(keys[1].algorithm(), "ES256");
}

fn base64_std(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
