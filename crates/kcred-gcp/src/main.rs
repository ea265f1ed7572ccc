//! `auth-provider-gcp`: the process is [`kcred_gcp::run_process`] (the plugin SDK's run loop
//! in upstream's dialect; see the `kcred_gcp` library and `docs/gcp.md`).

fn main() -> std::process::ExitCode {
    kcred_gcp::run_process()
}
