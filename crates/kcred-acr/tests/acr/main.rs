//! Every integration test of kcred-acr (acr-credential-provider) in one test binary (one link instead of 6):
//! each former `tests/*.rs` file is a module here, sharing `common`.

mod common;
mod conformance;
mod e2e;
mod flows;
mod kcred_get;
mod properties;
mod upstream_fidelity;
mod workload_identity_e2e;
