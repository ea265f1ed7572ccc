//! Decodes one `CredentialProviderConfig` file with [`kcred_api::config::decode_config`]
//! and prints the outcome and the time taken; `scripts/bench-yaml-memory.sh` runs it under
//! `/usr/bin/time -v` to measure the decoder's peak memory on hostile inputs.
//!
//! Usage: `decode_config_file FILE`

use std::time::Instant;

fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: decode_config_file FILE");
        return std::process::ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            return std::process::ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let result = kcred_api::config::decode_config(&bytes);
    let took = started.elapsed();
    match result {
        Ok(config) => println!(
            "decoded {} bytes in {took:?}: {} providers",
            bytes.len(),
            config.providers.len()
        ),
        Err(e) => {
            let text = e.to_string();
            let short: String = text.chars().take(160).collect();
            println!("rejected {} bytes in {took:?}: {short}", bytes.len());
        }
    }
    std::process::ExitCode::SUCCESS
}
