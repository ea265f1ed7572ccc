//! kcred-docker-helper's integration tests: one test binary, one module per area.

mod common;
mod file_cache;
mod helper_cli;
mod signals;
mod skopeo_e2e;
