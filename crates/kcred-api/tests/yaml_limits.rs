//! Issue 12, defect 6: YAML decoding memory is bounded by kcred's node limit
//! ([`kcred_api::MAX_YAML_NODES`]): documents with more nodes are refused before the
//! parser materialises them, aliases that multiply nodes are refused while converting,
//! and real-sized configs are far below the limit. (Peak memory before/after:
//! `scripts/bench-yaml-memory.sh`.)

use kcred_api::{decode_config, MAX_YAML_NODES};

const HEADER: &str = "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\n";

fn too_large(text: &str) -> bool {
    text.contains(&format!(
        "yaml: document too large: more than {MAX_YAML_NODES} nodes (kcred's limit)"
    ))
}

#[test]
fn a_huge_flow_collection_is_refused_before_parsing() {
    let doc = format!("{HEADER}providers: [{}a]\n", "a,".repeat(MAX_YAML_NODES));
    let err = decode_config(doc.as_bytes()).unwrap_err().to_string();
    assert!(too_large(&err), "{err}");
}

#[test]
fn deep_block_nesting_is_refused_before_parsing() {
    let doc = format!("{HEADER}providers:\n{}x\n", "- ".repeat(MAX_YAML_NODES));
    let err = decode_config(doc.as_bytes()).unwrap_err().to_string();
    assert!(too_large(&err), "{err}");
}

#[test]
fn aliases_multiplying_nodes_are_refused_while_converting() {
    // ~9 KB: one anchored list of 1,000 items, aliased 1,000 times = 1,000,000 nodes.
    let items = vec!["x"; 1000].join(", ");
    let aliases = vec!["*a"; 1000].join(", ");
    let doc = format!("{HEADER}providers: []\nanchor: &a [{items}]\nfan: [{aliases}]\n");
    let err = decode_config(doc.as_bytes()).unwrap_err().to_string();
    assert!(too_large(&err), "{err}");
}

#[test]
fn a_large_real_config_is_far_below_the_limit() {
    // 2,000 providers (about 400 KB) in block style, each with the usual fields.
    let mut doc = format!("{HEADER}providers:\n");
    for i in 0..2000 {
        doc.push_str(&format!(
            "  - name: provider-{i}\n    matchImages:\n      - \"*.dkr.ecr.*.amazonaws.com\"\n      - \"registry-{i}.example.com:5000/team\"\n    defaultCacheDuration: 12h\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    args: [\"--v=2\", \"get-credentials\"]\n    env:\n      - name: AWS_PROFILE\n        value: default\n"
        ));
    }
    let config = decode_config(doc.as_bytes()).unwrap();
    assert_eq!(config.providers.len(), 2000);
}
