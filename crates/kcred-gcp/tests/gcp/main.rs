//! Every integration test of kcred-gcp (auth-provider-gcp) in one test binary (one link instead of 7):
//! each former `tests/*.rs` file is a module here, sharing `support`.

mod conformance;
mod e2e_registry;
mod http_client;
mod kcred_get;
mod support;
mod tls;
mod upstream_fidelity;
mod wire;
mod workload_identity_e2e;
