//! Strict decoding of JSON and YAML documents, as apimachinery's strict decoder does.
