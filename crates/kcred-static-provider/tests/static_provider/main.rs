//! Every integration test of kcred-static-provider (static-credential-provider) in one test binary (one link instead of 3):
//! each former `tests/*.rs` file is a module here, sharing `common`.

mod common;
mod conformance;
mod errors;
mod serve;
