//! Integration tests of `kcred-cli`, one test binary (each module was a test binary of its
//! own; one binary links once).

mod cli_explain;
mod cli_kubelet_version;
mod cli_match;
mod cli_oidc;
mod cli_special_files;
mod cli_stdout_errors;
mod cli_validate;
mod cli_wi_plan;
mod common;
mod get;
mod get_hostile;
mod get_kubelet_version;
mod get_registry_e2e;
mod get_service_account;
mod get_signals;
mod get_support;
mod node_doctor_api;
mod node_install;
mod node_manifests;
