//! The server's watch on itself, every 180 s (the specification's interval; `[monitor]
//! probe_every_seconds`): its own `/healthz` fetched over the network through the real HTTP(S)
//! stack, as a tablet reaches it; the store, the disk, the backups and the archive; the web
//! certificate's days; the clock. Each result is kept in the uptime ledger (`Service::
//! record_probe`), from which the monthly report computes 稼働率; after it, once an hour, the
//! request times per page (`Service::keep_traffic`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use mamoru_core::Service;
use mamoru_core::time::Timestamp;
use mamoru_core::uptime::Probe;

/// What the prober reaches: the web address it listens on, and how.
pub struct Target {
    pub addr: SocketAddr,
    pub https: bool,
    pub data: PathBuf,
}

/// How long the web may take to answer before the probe counts it as down.
const WEB_TIMEOUT: Duration = Duration::from_secs(10);

/// The first probe after a start: soon, so that a restart of a few seconds does not leave a
/// gap the ledger would count as the server not running.
const FIRST_AFTER: Duration = Duration::from_secs(2);

/// Probes at a fixed rate, every `every` (not `every` after the last one ended: the ledger
/// expects one probe per interval, and a probe's own work would otherwise add up to missing
/// ones), until `stop` receives or is dropped; after each probe, opens and clears the alerts and
/// wakes `deliver` (the thread that sends their notices, so a slow relay never delays a probe).
pub fn run(
    service: &Service,
    target: &Target,
    every: Duration,
    deliver: Option<&std::sync::mpsc::SyncSender<crate::alerts::Wake>>,
    stop: &Receiver<()>,
) {
    let mut last = service.last_probe().ok().flatten().map(|p| p.at);
    let mut next = std::time::Instant::now() + FIRST_AFTER.min(every);
    loop {
        match stop.recv_timeout(next.saturating_duration_since(std::time::Instant::now())) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        // The next one an interval on; after a stall, half an interval from now (no burst).
        next = (next + every).max(std::time::Instant::now() + every / 2);
        let p = probe(service, target, last);
        let previous = last.replace(p.at);
        let problems = p.problems();
        if !problems.is_empty() {
            let problems: Vec<&str> =
                problems.into_iter().map(mamoru_core::uptime::Problem::as_str).collect();
            tracing::warn!(?problems, serving = p.serving(), "the self-probe found problems");
        }
        if let Err(e) = service.record_probe(p.clone()) {
            tracing::error!(error = %e, "the uptime ledger could not be written");
        }
        if p.web && service.store_readable() {
            crate::systemd::pet();
        }
        let seconds = i64::try_from(every.as_secs()).unwrap_or(i64::MAX);
        let kept = service.update_alerts(&p, previous, seconds);
        if let Err(e) = &kept {
            tracing::error!(error = %e, "the alerts could not be kept");
        }
        if let Some(d) = deliver {
            let problems = p.problems();
            let wake = if kept.is_ok() {
                crate::alerts::Wake::Kept(problems)
            } else {
                crate::alerts::Wake::Unkept(problems, p.at)
            };
            // Full: the deliverer is busy and hears again after the next probe.
            let _ = d.try_send(wake);
        }
        if let Err(e) = service.keep_traffic(false) {
            tracing::error!(error = %e, "the request times could not be kept (tried again at the next probe)");
        }
    }
}

fn probe(service: &Service, target: &Target, last: Option<Timestamp>) -> Probe {
    let health = service.health();
    let now = service.now();
    let web = web_answers(target)
        .inspect_err(|e| tracing::warn!(error = %e, "the self-probe could not reach /healthz"))
        .is_ok();
    let certificate_days = if target.https {
        crate::tls::configured_facts(&target.data)
            .ok()
            .map(|(_, f)| (f.not_after.0 - now.0).div_euclid(86_400))
    } else {
        None
    };
    Probe {
        at: now,
        web,
        store: health.store_writable,
        disk: health.disk_state(),
        backup: health.backup_state(),
        archive: !health.backup.archive_failing,
        certificate_days,
        clock: last.is_none_or(|l| now.0 >= l.0),
        store_bytes: health.store_bytes,
        disk_space: health.disk,
    }
}

/// `GET /healthz` over TCP (and TLS when serving HTTPS): any HTTP answer counts, a 503 included
/// (the store's state is probed on its own).
fn web_answers(t: &Target) -> std::io::Result<()> {
    let mut addr = t.addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let tcp = TcpStream::connect_timeout(&addr, WEB_TIMEOUT)?;
    tcp.set_read_timeout(Some(WEB_TIMEOUT))?;
    tcp.set_write_timeout(Some(WEB_TIMEOUT))?;
    let mut stream: Box<dyn ReadWrite> = if t.https {
        let name = rustls::pki_types::ServerName::try_from("localhost").map_err(std::io::Error::other)?;
        let conn = rustls::ClientConnection::new(own_server(), name).map_err(std::io::Error::other)?;
        Box::new(rustls::StreamOwned::new(conn, tcp))
    } else {
        Box::new(tcp)
    };
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    if head.starts_with(b"HTTP/1.1 ") { Ok(()) } else { Err(std::io::Error::other("not an HTTP answer")) }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// A TLS client for the server's own address: the handshake and the answer are what is probed,
/// not who the certificate names (a renewed one is checked by `tls show`).
fn own_server() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(AnyCertificate(provider.clone()));
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|_| {
                rustls::ClientConfig::builder_with_protocol_versions(rustls::DEFAULT_VERSIONS)
            })
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    )
}

#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
