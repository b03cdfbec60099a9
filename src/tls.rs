//! The server's TLS certificate. `mamoru init` makes a certificate authority of this server's own
//! (ten years; the tablets trust it once, as a configuration profile) and the server's
//! certificate signed by it (397 days at most, Apple's limit; serverAuth; SANs for every name and
//! address the tablets use). `mamoru tls renew` signs a new server certificate with the same
//! authority, so the tablets need nothing new; the running server takes it within a minute. A
//! city-issued certificate replaces both through `web.cert` and `web.key` in the config, and is
//! renewed by whoever issued it. See `docs/operations/tls.md`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use mamoru_core::time::{Date, Timestamp};

/// Where `init` writes the certificate and key, inside the data directory.
pub const CERT_FILE: &str = "tls/cert.pem";
pub const KEY_FILE: &str = "tls/key.pem";
/// This server's own certificate authority: the certificate the tablets trust, and its key.
pub const CA_FILE: &str = "tls/ca.pem";
pub const CA_KEY_FILE: &str = "tls/ca-key.pem";

/// How long the authority and a server certificate are valid, in days.
const CA_DAYS: i64 = 3650;
const SERVER_DAYS: i64 = 397;

/// The organisation named in the certificates Mamoru makes; a certificate naming it as its
/// issuer is Mamoru's own.
const ORGANISATION: &str = "Mamoru appliance (self-signed)";
const CA_NAME: &str = "Mamoru local CA";

/// What `init` makes: the authority, and the server's certificate for `names` (host names and IP
/// addresses) signed by it, valid from `today`. Everything is written owner-only into `data`.
pub fn make_new(data: &Path, names: &[String], today: Date) -> Result<()> {
    make_authority(data, names, today)?;
    issue(data, names, today).map(|_| ())
}

/// Valid from the start of `from` to the start of `until` (UTC).
fn set_validity(params: &mut rcgen::CertificateParams, from: Date, until: Date) -> Result<()> {
    let at = |d: Date| -> Result<_> {
        Ok(rcgen::date_time_ymd(d.year(), u8::try_from(d.month())?, u8::try_from(d.day())?))
    };
    params.not_before = at(from)?;
    params.not_after = at(until)?;
    Ok(())
}

/// The authority may sign for `names` only (name constraints): its key, which the server holds,
/// cannot be used to impersonate any other site to the tablets that trust it.
fn make_authority(data: &Path, names: &[String], today: Date) -> Result<()> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).context("authority")?;
    params.distinguished_name.push(rcgen::DnType::CommonName, CA_NAME);
    params.distinguished_name.push(rcgen::DnType::OrganizationName, ORGANISATION);
    set_validity(&mut params, today.plus_days(-1), today.plus_days(CA_DAYS))?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.name_constraints = Some(rcgen::NameConstraints {
        permitted_subtrees: names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => rcgen::GeneralSubtree::IpAddress(rcgen::CidrSubnet::from_addr_prefix(
                    ip,
                    if ip.is_ipv4() { 32 } else { 128 },
                )),
                Err(_) => rcgen::GeneralSubtree::DnsName(n.clone()),
            })
            .collect(),
        excluded_subtrees: Vec::new(),
    });
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    let key = rcgen::KeyPair::generate().context("generating the authority's key")?;
    let cert = params.self_signed(&key).context("signing the authority's certificate")?;
    let dir = data.join("tls");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    replace_private(&data.join(CA_KEY_FILE), key.serialize_pem().as_bytes())?;
    replace_private(&data.join(CA_FILE), cert.pem().as_bytes())
}

/// Signs a new server certificate for `names` with the authority in `data`, and puts it and its
/// new key in place of the old (each file replaced whole). Returns when it expires.
fn issue(data: &Path, names: &[String], today: Date) -> Result<Timestamp> {
    let ca_pem = read(&data.join(CA_FILE))?;
    let ca_key = rcgen::KeyPair::from_pem(&read(&data.join(CA_KEY_FILE))?)
        .with_context(|| format!("{} is not a private key", data.join(CA_KEY_FILE).display()))?;
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca_pem, ca_key)
        .with_context(|| format!("{} is not a certificate", data.join(CA_FILE).display()))?;
    let mut params = rcgen::CertificateParams::new(names.to_vec()).context("certificate names")?;
    params.distinguished_name.push(rcgen::DnType::CommonName, "Mamoru");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, ORGANISATION);
    let until = today.plus_days(SERVER_DAYS - 1);
    set_validity(&mut params, today.plus_days(-1), until)?;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    let key = rcgen::KeyPair::generate().context("generating the TLS key")?;
    let cert = params.signed_by(&key, &issuer).context("signing the TLS certificate")?;
    let chain = format!("{}{}", cert.pem(), ca_pem);
    // The key first: a server reloading in between finds a key that does not fit the old
    // certificate, keeps what it has and tries again a minute later.
    replace_private(&data.join(KEY_FILE), key.serialize_pem().as_bytes())?;
    replace_private(&data.join(CERT_FILE), chain.as_bytes())?;
    Ok(Timestamp(until.days() * 86_400))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Writes `bytes` to `path` whole or not at all (a new file renamed over the old), owner-only.
fn replace_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut fresh = path.as_os_str().to_owned();
    fresh.push(".new");
    let fresh = PathBuf::from(fresh);
    let _ = std::fs::remove_file(&fresh);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&fresh)
        .with_context(|| format!("creating {}", fresh.display()))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).with_context(|| format!("writing {}", fresh.display()))?;
    std::fs::rename(&fresh, path).with_context(|| format!("replacing {}", path.display()))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("syncing {}", dir.display()))?;
    }
    Ok(())
}

/// The pair a server presents, and where it came from.
pub struct Watched {
    pub tls: mamoru_web::Tls,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The bytes it was made from (a renewal landing since is presented at the first check).
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

/// What a certificate file says about the server's certificate (its first one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateFacts {
    /// The names and addresses it is valid for (an authority's: those it may sign for).
    pub names: Vec<String>,
    pub not_after: Timestamp,
    /// Made by Mamoru (`init` or `tls renew`), so `tls renew` may replace it.
    pub own: bool,
}

/// Reads the first certificate of a PEM file (the server's, before its chain).
pub fn facts(cert_pem: &[u8]) -> Result<CertificateFacts> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem).context("no PEM certificate in the file")?;
    let cert = pem.parse_x509().context("the certificate is not X.509")?;
    // A server certificate's names, or the names an authority may sign for (an address there
    // comes with its mask: the address alone).
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        names.extend(san.value.general_names.iter().filter_map(|n| name_of(n, false)));
    }
    if let Ok(Some(constraints)) = cert.name_constraints() {
        let permitted = constraints.value.permitted_subtrees.iter().flatten();
        names.extend(permitted.filter_map(|subtree| name_of(&subtree.base, true)));
    }
    let own = cert.issuer().iter_organization().any(|o| o.as_str() == Ok(ORGANISATION));
    Ok(CertificateFacts { names, not_after: Timestamp(cert.validity().not_after.timestamp()), own })
}

/// A host name or an address as text; `masked`: an address followed by its mask.
fn name_of(name: &x509_parser::extensions::GeneralName<'_>, masked: bool) -> Option<String> {
    match name {
        x509_parser::extensions::GeneralName::DNSName(n) => Some((*n).to_owned()),
        x509_parser::extensions::GeneralName::IPAddress(bytes) => {
            let bytes = if masked { &bytes[..bytes.len() / 2] } else { bytes };
            let ip = match bytes.len() {
                4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
                16 => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
                _ => return None,
            };
            Some(ip.to_string())
        }
        _ => None,
    }
}

/// The certificate and key files the config names, made absolute.
pub fn configured(data: &Path, web: &crate::config::Web) -> (PathBuf, PathBuf) {
    let path = |p: &Path| if p.is_absolute() { p.to_owned() } else { data.join(p) };
    (path(&web.cert), path(&web.key))
}

/// The certificate the config names, and what it says (`tls show`, the console's dashboard).
pub fn configured_facts(data: &Path) -> Result<(PathBuf, CertificateFacts)> {
    let (cert, _) = configured(data, &crate::config::load(data)?.web);
    let pem = std::fs::read(&cert).with_context(|| format!("cannot read {}", cert.display()))?;
    let facts = facts(&pem).with_context(|| format!("cannot read the certificate {}", cert.display()))?;
    Ok((cert, facts))
}

/// What `tls renew` did.
#[derive(Debug)]
pub struct Renewed {
    pub names: Vec<String>,
    pub not_after: Timestamp,
    /// A new authority was made: every tablet must trust it (the old certificate had none).
    pub new_authority: bool,
}

/// `mamoru tls renew`: a new server certificate from this server's authority, for `names` or
/// else the names the current one has (none: this machine's host name). Refuses a certificate
/// Mamoru did not make (the city's: whoever issued it renews it). Makes a new authority — which
/// the tablets must then trust — only when `new_authority` says so: needed where there is none
/// (an older `init`, a restored directory), where it ends too soon, or where it may not sign
/// for a name asked.
pub fn renew(data: &Path, names: &[String], new_authority: bool, today: Date) -> Result<Renewed> {
    let cfg = crate::config::load(data)?;
    let (cert, key) = configured(data, &cfg.web);
    if cert != data.join(CERT_FILE) || key != data.join(KEY_FILE) {
        bail!(
            "the config's web.cert is {}, not the certificate Mamoru makes: renew it with whoever issued it",
            cert.display()
        );
    }
    // None: no certificate at all (a directory `backup restore` made, which carries no `tls/`).
    let current = match std::fs::read(&cert) {
        Ok(pem) => {
            Some(facts(&pem).with_context(|| format!("cannot read the certificate {}", cert.display()))?)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", cert.display())),
    };
    if current.as_ref().is_some_and(|c| !c.own) {
        bail!("{} was not made by Mamoru: renew it with whoever issued it", cert.display());
    }
    let mut has_authority = data.join(CA_FILE).exists() && data.join(CA_KEY_FILE).exists();
    if !has_authority && !new_authority {
        let what = if current.is_some() {
            "this certificate has no authority of this server's (an older mamoru init made it)"
        } else {
            "there is no certificate nor authority here (a restored data directory carries none)"
        };
        bail!(
            "{what}: renewing makes an authority, which every tablet must trust once (docs/operations/tls.md); \
             run again with --new-ca"
        );
    }
    let names = match current {
        Some(c) if names.is_empty() => c.names,
        _ => default_names(names),
    };
    if has_authority {
        // An authority ending within a server certificate's life, or one that may not sign for
        // every name asked, signs no more: a new one.
        let ca = facts(read(&data.join(CA_FILE))?.as_bytes())?;
        let outside: Vec<&String> = names.iter().filter(|n| !ca.names.contains(n)).collect();
        let why = if ca.not_after.0 < today.plus_days(SERVER_DAYS).days() * 86_400 {
            Some(format!(
                "this server's authority ends {}, before a new certificate would",
                ca.not_after.to_jst_string()
            ))
        } else if !outside.is_empty() {
            let outside: Vec<&str> = outside.iter().map(|n| n.as_str()).collect();
            Some(format!("this server's authority may not sign for {}", outside.join(", ")))
        } else {
            None
        };
        if let Some(why) = why {
            if !new_authority {
                bail!(
                    "{why}: renewing makes a new authority, which every tablet must trust once \
                     (docs/operations/tls.md); run again with --new-ca"
                );
            }
            has_authority = false;
        }
    }
    if !has_authority {
        make_authority(data, &names, today)?;
    }
    let not_after = issue(data, &names, today)?;
    Ok(Renewed { names, not_after, new_authority: !has_authority })
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

/// Watches the certificate and key files while the server runs, each minute and at SIGHUP
/// (`systemctl reload mamoru`): a renewed pair (by `tls renew`, or a city certificate copied
/// over) is presented from the next handshake on, checked first (a pair that does not fit is
/// kept out and tried again later); and the log says once a day when the certificate is to be
/// renewed. Runs until the server stops.
/// `hangup` is taken before the server says it listens, so that no SIGHUP ends it.
pub async fn watch(served: Watched, mut hangup: Option<tokio::signal::unix::Signal>) {
    let Watched { tls, cert, key, cert_pem, key_pem } = served;
    let mut loaded = (Some(cert_pem), Some(key_pem));
    let mut refused: Option<String> = None;
    let mut warned_on: Option<Date> = None;
    let mut tick = tokio::time::interval(std::time::Duration::from_mins(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(()) = async {
                match hangup.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            } => {}
        }
        let now = mamoru_core::time::Clock::now(&crate::clock::SystemClock);
        let files = match (std::fs::read(&cert), std::fs::read(&key)) {
            (Ok(c), Ok(k)) => (Some(c), Some(k)),
            (Err(e), _) | (_, Err(e)) => {
                // Say it once (a renewal run by another user leaves files the server cannot
                // read: it keeps presenting the old pair, and would not start again).
                let error = format!("cannot read the TLS certificate or key: {e}");
                if refused.as_deref() != Some(error.as_str()) {
                    tracing::warn!(%error, "the TLS files are not readable (the old pair stays)");
                    refused = Some(error);
                }
                (None, None)
            }
        };
        if let (Some(c), Some(k)) = &files
            && files != loaded
        {
            match tls.reload(c, k) {
                Ok(()) => {
                    tracing::info!(cert = %cert.display(), "presenting the renewed TLS certificate");
                    loaded = files.clone();
                    refused = None;
                    warned_on = None;
                }
                Err(error) if refused.as_deref() != Some(error.as_str()) => {
                    tracing::warn!(%error, "a changed TLS certificate or key is not used (the old one stays)");
                    refused = Some(error);
                }
                Err(_) => {}
            }
        }
        if warned_on != Some(now.jst_date())
            && let Some(c) = &loaded.0
            && let Ok(facts) = facts(c)
        {
            warned_on = Some(now.jst_date());
            log_expiry(&facts, now);
        }
    }
}

/// Says in the log when the certificate is to be renewed, or has ended.
pub fn log_expiry(facts: &CertificateFacts, now: Timestamp) {
    use mamoru_core::certificate::{Expiry, expiry};
    let until = facts.not_after.to_jst_string();
    let how = if facts.own { "run `mamoru tls renew`" } else { "ask whoever issued it to renew it" };
    match expiry(facts.not_after, now) {
        Expiry::Valid { .. } => {}
        Expiry::RenewSoon { days_left } => {
            tracing::warn!(%until, days_left, "the TLS certificate ends soon: {how}");
        }
        Expiry::Expired => {
            tracing::error!(%until, "the TLS certificate has ended, tablets cannot connect: {how}");
        }
    }
}
