//! `kcred doctor`: placeholder.
use crate::output::Exit;
/// Arguments of `kcred doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {}
/// Runs `kcred doctor`.
pub fn run(_args: &Args) -> anyhow::Result<Exit> { Ok(Exit::Yes) }
