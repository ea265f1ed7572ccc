//! `auth-provider-gcp`: see the `kcred_gcp` library and `docs/gcp.md`. The process runs on the
//! plugin SDK's run loop in upstream's dialect ([`kcred_gcp::app::GcpDialect`]).

fn main() -> std::process::ExitCode {
    let env = |name: &str| std::env::var(name).ok();
    kcred_plugin::run_process(&kcred_gcp::app::GcpDialect { env: &env })
}
