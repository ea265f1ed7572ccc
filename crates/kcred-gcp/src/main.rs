//! `auth-provider-gcp`: see the `kcred_gcp` library and `docs/gcp.md`.

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = |name: &str| std::env::var(name).ok();
    let outcome = kcred_gcp::app::run(&args, &env, &mut std::io::stdin().lock());
    let mut out = std::io::stdout().lock();
    if out
        .write_all(&outcome.stdout)
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(1);
    }
    std::process::exit(outcome.exit_code);
}
