//! Every integration test of kcred-helper-provider (docker-credential-provider) in one test binary (one link instead of 2):
//! each former `tests/*.rs` file is a module here.

mod pass_helper;
mod provider_cli;
