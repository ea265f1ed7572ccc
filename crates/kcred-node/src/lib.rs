//! kcred-node: put kcred's credential providers on a Kubernetes node the way its
//! distribution expects, take them off again, and check that a node is set up right.
//!
//! Pure planning is separated from the IO that applies a plan:
//!
//! - planning ([`plan`], with [`profile`], [`flags`], [`preset`], [`kubelet`], [`diff`]) reads
//!   the node through [`fs::NodeFiles`] and returns the exact bytes of every file to write;
//! - [`apply`] writes a plan atomically with backups and a state file, and [`apply::uninstall`]
//!   restores the originals byte for byte;
//! - [`doctor`] finds the running kubelet and checks its flags, config, plugins and token mode;
//!   [`rbac_check`] asks the API server ([`kubeconfig`], [`access_review`]) whether the node
//!   may request tokens for each token-mode audience;
//! - [`manifests`] renders the DaemonSet installer and the node-audience RBAC;
//! - [`api_client`] is the one API-server client, for [`node_api`] (the installer annotating
//!   its node) and [`access_review`].

pub mod access_review;
pub mod api_client;
pub mod apply;
pub mod diff;
pub mod doctor;
pub mod elf;
pub mod flags;
pub mod fs;
pub mod kubeconfig;
pub mod kubelet;
pub mod manifests;
pub mod node_api;
pub mod plan;
pub mod preset;
pub mod process;
pub mod profile;
pub mod rbac_check;
pub mod restart;
