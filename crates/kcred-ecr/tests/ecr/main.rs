//! Every integration test of kcred-ecr (ecr-credential-provider) in one test binary (one link instead of 6):
//! each former `tests/*.rs` file is a module here, sharing `common`.

mod cli;
mod common;
mod conformance;
mod emulated;
mod kcred_get;
mod properties;
mod workload_identity_e2e;
