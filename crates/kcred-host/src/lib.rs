//! The kubelet's credential provider host: run plugins, cache, and answer keyring lookups.
