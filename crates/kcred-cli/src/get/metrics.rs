//! `kcred get --metrics [FILE]`: the host's Prometheus metrics after the run (plugin run
//! durations and errors, cache hits and misses, the config hash), on stderr or in a file.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Where `--metrics` sends the metrics text.
#[derive(Debug)]
pub(super) enum MetricsSink {
    /// `--metrics` or `--metrics -`.
    Stderr,
    /// `--metrics FILE`, created (truncated) before the run.
    File {
        /// The path given.
        path: PathBuf,
        /// The open file.
        file: File,
    },
}

impl MetricsSink {
    /// The sink for a `--metrics` value: `-` is stderr, anything else a file, created now so
    /// that an unusable path fails before any plugin runs.
    pub(super) fn open(target: &Path) -> anyhow::Result<MetricsSink> {
        if target.as_os_str() == "-" {
            return Ok(MetricsSink::Stderr);
        }
        let file = File::create(target)
            .with_context(|| format!("cannot create the --metrics file {}", target.display()))?;
        Ok(MetricsSink::File {
            path: target.to_path_buf(),
            file,
        })
    }

    /// Writes `text` (the Prometheus text format) to the sink.
    pub(super) fn write(self, text: &str) -> anyhow::Result<()> {
        match self {
            MetricsSink::Stderr => {
                err!("{text}");
                Ok(())
            }
            MetricsSink::File { path, mut file } => file
                .write_all(text.as_bytes())
                .and_then(|()| file.flush())
                .with_context(|| format!("cannot write the --metrics file {}", path.display())),
        }
    }
}
