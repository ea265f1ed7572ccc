//! `acr-credential-provider <azure.json> [flags]`: the process is [`kcred_acr::run_process`] (the
//! plugin SDK's run loop in upstream's dialect; see the `kcred_acr` library and
//! `docs/acr.md`).

fn main() -> std::process::ExitCode {
    kcred_acr::run_process()
}
