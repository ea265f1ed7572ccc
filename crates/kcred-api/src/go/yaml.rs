//! `sigs.k8s.io/yaml` (go-yaml v2, YAML 1.1): YAML converted to JSON the way apimachinery
//! sees it (first document only, YAML 1.1 booleans and numbers, keys stringified and
//! sorted, go-yaml's duplicate-key reports).

use crate::gojson::Value;

/// A YAML document converted to JSON.
#[derive(Debug)]
pub struct YamlDocument {
    /// The document as JSON (`null` for an empty document).
    pub value: Value,
    /// go-yaml strict mode's duplicate-key errors (`line 5: key "name" already set in map`),
    /// in document order; the value keeps the last of each repeated key.
    pub duplicate_keys: Vec<String>,
}

/// Converts the first YAML document of `input`; the error is the message apimachinery's
/// YAML-to-JSON conversion returns (`yaml: line 3: mapping values are not allowed in this
/// context`).
///
/// ```
/// let doc = kcred_api::go::yaml::to_json(b"a: yes\nb: 0777\n").unwrap();
/// assert!(doc.duplicate_keys.is_empty());
/// ```
pub fn to_json(input: &[u8]) -> Result<YamlDocument, String> {
    crate::yaml::yaml_to_json(input).map(|doc| YamlDocument {
        value: doc.value,
        duplicate_keys: doc.duplicate_keys,
    })
}
