//! The server's TLS certificate. `mamoru init` makes a self-signed one that iPads accept (valid
//! 397 days at most, serverAuth, SANs for every name and address the tablets use); a city-issued
//! certificate replaces it through `web.cert` and `web.key` in the config.

use std::path::Path;

use anyhow::{Context, Result};
use mamoru_core::time::Date;

/// Where `init` writes the certificate and key, inside the data directory.
pub const CERT_FILE: &str = "tls/cert.pem";
pub const KEY_FILE: &str = "tls/key.pem";

/// Makes a self-signed certificate for `names` (host names and IP addresses), valid from
/// `today` for 397 days (Apple's limit), and writes it with its key (owner-only) into `data`.
pub fn make_self_signed(data: &Path, names: &[String], today: Date) -> Result<()> {
    let mut params = rcgen::CertificateParams::new(names.to_vec()).context("certificate names")?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "Mamoru");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Mamoru appliance (self-signed)");
    let ymd = |d: Date| -> Result<_> {
        Ok(rcgen::date_time_ymd(d.year(), u8::try_from(d.month())?, u8::try_from(d.day())?))
    };
    params.not_before = ymd(today.plus_days(-1))?;
    params.not_after = ymd(today.plus_days(396))?;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let key = rcgen::KeyPair::generate().context("generating the TLS key")?;
    let cert = params.self_signed(&key).context("signing the TLS certificate")?;
    let dir = data.join("tls");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(data.join(CERT_FILE), cert.pem()).context("writing the TLS certificate")?;
    write_private(&data.join(KEY_FILE), key.serialize_pem().as_bytes())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("writing {}", path.display()))
}

/// The names a new certificate covers: the given ones, or this machine's host name, plus
/// localhost and the loopback addresses.
pub fn default_names(given: &[String]) -> Vec<String> {
    let mut names: Vec<String> = given.to_vec();
    if names.is_empty()
        && let Ok(host) = std::fs::read_to_string("/etc/hostname")
        && !host.trim().is_empty()
    {
        names.push(host.trim().to_owned());
    }
    for n in ["localhost", "127.0.0.1", "::1"] {
        if !names.iter().any(|x| x == n) {
            names.push(n.to_owned());
        }
    }
    names
}
