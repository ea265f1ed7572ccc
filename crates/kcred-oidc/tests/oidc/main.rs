//! kcred-oidc's integration tests: one test binary, one module per area.

mod conformance;
mod keys_and_tokens;
mod properties;
