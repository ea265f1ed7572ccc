//! `ecr-credential-provider`: the kubelet image credential provider for Amazon ECR. The
//! process is [`kcred_ecr::run_process`] (the plugin SDK's run loop in upstream's dialect; see
//! the `kcred_ecr` library and `docs/ecr.md`).

fn main() -> std::process::ExitCode {
    kcred_ecr::run_process()
}
