//! Embedding the kcred host: what a tool that pulls images does to get the credentials a
//! kubelet would use.
//!
//! ```sh
//! cargo run -p kcred-host --example embed -- CONFIG BIN_DIR IMAGE
//! ```

use std::time::Duration;

use kcred_host::{Host, HostOptions, PodContext, ReloadEvent};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, bin_dir, image] = args.as_slice() else {
        return Err("usage: embed CONFIG BIN_DIR IMAGE".into());
    };

    // Registers providers exactly as the kubelet does at startup (bin dir, config, validation).
    let host = Host::load(config, bin_dir, HostOptions::default())?;

    // kcred goes beyond the kubelet: the config is watched and swapped atomically when it
    // changes; an invalid edit keeps the old providers and says why.
    let mut events = host.reload_events();
    let _watch = host.watch_config(Duration::from_secs(5));
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            match event {
                ReloadEvent::Applied { hash } => eprintln!("config reloaded: {hash}"),
                ReloadEvent::Rejected { reason } => eprintln!("config change refused: {reason}"),
            }
        }
    });

    // One pull: providers in config order, cached, then the keyring lookup.
    let report = host.credentials(image, &PodContext::default()).await?;
    for outcome in &report.outcomes {
        eprintln!("{}", outcome.trace);
    }
    for (i, (cred, provider)) in report.credentials_with_providers().enumerate() {
        // Passwords are `Secret`s: printing one shows `<redacted>`.
        println!(
            "{i}: user {:?} password {} from provider {:?} (auth key {:?})",
            cred.username,
            cred.password,
            provider.unwrap_or_default(),
            cred.location
        );
    }
    print!("{}", host.gather_metrics());
    Ok(())
}
