//! kcred-node's integration tests (one test binary: docs/ARCHITECTURE.md).

mod node_api;
mod rbac_check;
