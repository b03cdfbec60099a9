//! The config file (`DIR/mamoru.toml`), written commented by `mamoru init`. Only this crate reads
//! files and the environment.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

pub const FILE_NAME: &str = "mamoru.toml";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub web: Web,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Web {
    #[serde(default = "default_web")]
    pub listen: SocketAddr,
}

fn default_web() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8443))
}
impl Default for Web {
    fn default() -> Self {
        Self { listen: default_web() }
    }
}

pub const TEMPLATE: &str = r#"# Mamoru configuration. Lines starting with # are comments; the values shown are the defaults.

[web]
# Address of the web UI and JSON API (HTTPS). Port 0 picks a free port.
# listen = "0.0.0.0:8443"
"#;

/// Reads `DIR/mamoru.toml`; a missing file means the defaults.
pub fn load(dir: &Path) -> anyhow::Result<Config> {
    let path = dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("reading {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}
