//! A mail client for one job: handing the alerts' messages to the city's relay. Plain SMTP on
//! the closed network, or over TLS — STARTTLS (port 25 or 587) or TLS from the first byte (465)
//! — with the relay's certificate checked against the city's authority (or the system's), and
//! AUTH PLAIN or LOGIN, only ever over TLS. Nothing is sent after a refused upgrade or a
//! certificate that does not check out: not the password, not the message.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Deserialize;

/// One read or write waits at most this.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A whole conversation ends within this.
const CONVERSATION: Duration = Duration::from_mins(2);
/// Where Debian keeps the system's trusted authorities (package ca-certificates).
const SYSTEM_CAS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// How the relay is reached (`[alerts] smtp_security`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain SMTP: the closed network's relay takes mail as it is.
    #[default]
    Plain,
    /// Plain SMTP upgraded with STARTTLS before anything else is said.
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

/// The relay, checked once at start: its TLS settings loaded, its password file readable.
pub struct Relay {
    address: String,
    security: Security,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    login: Option<(String, PathBuf)>,
}

impl Relay {
    /// `ca`: the authorities the relay's certificate must chain to (PEM), else the system's.
    /// `login`: the user and the file holding the password (read at each message, so a changed
    /// password needs no restart).
    pub fn new(
        address: &str,
        security: Security,
        ca: Option<&Path>,
        login: Option<(String, PathBuf)>,
    ) -> anyhow::Result<Self> {
        if login.is_some() && security == Security::Plain {
            bail!(
                "[alerts] smtp_user needs smtp_security = \"starttls\" or \"tls\": the password is never sent in clear"
            );
        }
        if let Some((_, file)) = &login {
            password(file).with_context(|| format!("[alerts] smtp_password_file {}", file.display()))?;
        }
        let tls = match security {
            Security::Plain => None,
            Security::Starttls | Security::Tls => {
                let ca = ca.unwrap_or(Path::new(SYSTEM_CAS));
                let config =
                    client_config(ca).with_context(|| format!("[alerts] smtp_ca {}", ca.display()))?;
                let host = host(address);
                let name = ServerName::try_from(host.to_owned())
                    .with_context(|| format!("[alerts] smtp: {host:?} is no host name"))?;
                Some((config, name))
            }
        };
        Ok(Self { address: address.to_owned(), security, tls, login })
    }

    /// One conversation: EHLO (STARTTLS and EHLO again), AUTH, MAIL, RCPT for each address,
    /// DATA, QUIT. `message` is the headers and body, with no line that is a lone dot.
    pub fn send(&self, from: &str, to: &[String], message: &str) -> Result<(), String> {
        let relay = self.address.as_str();
        let addr = relay
            .to_socket_addrs()
            .map_err(|e| format!("{relay}: {e}"))?
            .next()
            .ok_or_else(|| format!("{relay}: no address"))?;
        let tcp = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("{relay}: {e}"))?;
        tcp.set_read_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
        tcp.set_write_timeout(Some(TIMEOUT)).map_err(|e| e.to_string())?;
        let stream = match (&self.security, &self.tls) {
            (Security::Tls, Some(tls)) => secure(tcp, tls, relay)?,
            _ => Stream::Plain(tcp),
        };
        let mut c =
            Conversation { relay, reader: BufReader::new(stream), deadline: Instant::now() + CONVERSATION };
        let helo = from.rsplit('@').next().unwrap_or("localhost");
        c.reply("greeting", &[220])?;
        let mut offers = c.say(&format!("EHLO {helo}\r\n"), "EHLO", &[250])?;
        if let (Security::Starttls, Some(tls)) = (&self.security, &self.tls) {
            if !offers.iter().any(|o| o.eq_ignore_ascii_case("STARTTLS")) {
                return Err(format!("{relay} does not offer STARTTLS; nothing was sent"));
            }
            c.say("STARTTLS\r\n", "STARTTLS", &[220])?;
            c = c.upgrade(tls)?;
            // What was offered before TLS counts for nothing (RFC 3207).
            offers = c.say(&format!("EHLO {helo}\r\n"), "EHLO", &[250])?;
        }
        if let Some((user, file)) = &self.login {
            let password = password(file).map_err(|e| format!("{}: {e}", file.display()))?;
            c.authenticate(&offers, user, &password)?;
        }
        c.say(&format!("MAIL FROM:<{from}>\r\n"), "MAIL", &[250])?;
        for to in to {
            c.say(&format!("RCPT TO:<{to}>\r\n"), "RCPT", &[250, 251])?;
        }
        c.say("DATA\r\n", "DATA", &[354])?;
        c.say(&format!("{message}.\r\n"), "the message", &[250])?;
        // The message is accepted; a relay that hangs up without answering QUIT changes nothing.
        let _ = c.say("QUIT\r\n", "QUIT", &[221]);
        Ok(())
    }
}

/// The password file's first line.
fn password(file: &Path) -> std::io::Result<String> {
    let text = std::fs::read_to_string(file)?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(std::io::Error::other("holds no password"));
    }
    Ok(line.to_owned())
}

/// `relay.city.example` of `relay.city.example:587`, `::1` of `[::1]:25`.
fn host(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

fn client_config(ca: &Path) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let pem = std::fs::read(ca)?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        // A bundle may hold an authority webpki cannot use; the rest still count.
        let _ = roots.add(cert.context("not a PEM certificate file")?);
    }
    if roots.is_empty() {
        bail!("holds no certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

/// The handshake, finished here so that a certificate that does not check out is this step's
/// error, before a word of SMTP.
fn secure(
    mut tcp: TcpStream,
    (config, name): &(Arc<rustls::ClientConfig>, ServerName<'static>),
    relay: &str,
) -> Result<Stream, String> {
    let mut conn = rustls::ClientConnection::new(config.clone(), name.clone())
        .map_err(|e| format!("{relay}: TLS: {e}"))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| format!("{relay}: TLS: {e}"))?;
    }
    Ok(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

struct Conversation<'a> {
    relay: &'a str,
    reader: BufReader<Stream>,
    deadline: Instant,
}

impl Conversation<'_> {
    /// Sends `line` and reads the reply; `what` names the step in an error (never the line: it
    /// may carry the password).
    fn say(&mut self, line: &str, what: &str, want: &[u16]) -> Result<Vec<String>, String> {
        let w = self.reader.get_mut();
        w.write_all(line.as_bytes()).and_then(|()| w.flush()).map_err(|e| format!("{}: {e}", self.relay))?;
        self.reply(what, want)
    }

    /// A reply, which may run over lines (`250-…` until `250 …`): the text of each line.
    fn reply(&mut self, what: &str, want: &[u16]) -> Result<Vec<String>, String> {
        let relay = self.relay;
        let mut lines = Vec::new();
        loop {
            // A relay that trickles never ends the conversation past the deadline.
            if Instant::now() > self.deadline {
                return Err(format!("{relay}: no answer within {} s", CONVERSATION.as_secs()));
            }
            let mut reply = String::new();
            self.reader.read_line(&mut reply).map_err(|e| format!("{relay}: {e}"))?;
            let code: u16 =
                reply.get(..3).and_then(|c| c.parse().ok()).ok_or_else(|| format!("{relay}: no reply"))?;
            lines.push(reply.get(4..).unwrap_or_default().trim_end().to_owned());
            if reply.as_bytes().get(3) == Some(&b'-') {
                continue;
            }
            if want.contains(&code) {
                return Ok(lines);
            }
            return Err(format!("{relay} refused {what}: {}", reply.trim_end()));
        }
    }

    /// After the relay's 220 to STARTTLS. Anything it sent beyond that answer would be read as
    /// if it came over TLS: refused (the STARTTLS command injection of CVE-2011-0411).
    fn upgrade(self, tls: &(Arc<rustls::ClientConfig>, ServerName<'static>)) -> Result<Self, String> {
        let relay = self.relay;
        if !self.reader.buffer().is_empty() {
            return Err(format!("{relay} sent more after its answer to STARTTLS; nothing was sent"));
        }
        let Stream::Plain(tcp) = self.reader.into_inner() else {
            return Err(format!("{relay}: STARTTLS over TLS"));
        };
        Ok(Self { relay, reader: BufReader::new(secure(tcp, tls, relay)?), deadline: self.deadline })
    }

    /// AUTH PLAIN, else LOGIN, as the relay offers after TLS.
    fn authenticate(&mut self, offers: &[String], user: &str, password: &str) -> Result<(), String> {
        let mechanisms: Vec<String> = offers
            .iter()
            .filter_map(|o| {
                let upper = o.to_ascii_uppercase();
                upper.strip_prefix("AUTH ").or_else(|| upper.strip_prefix("AUTH=")).map(str::to_owned)
            })
            .flat_map(|m| m.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .collect();
        if mechanisms.iter().any(|m| m == "PLAIN") {
            let token = base64(format!("\0{user}\0{password}").as_bytes());
            self.say(&format!("AUTH PLAIN {token}\r\n"), "AUTH PLAIN", &[235])?;
        } else if mechanisms.iter().any(|m| m == "LOGIN") {
            self.say("AUTH LOGIN\r\n", "AUTH LOGIN", &[334])?;
            self.say(&format!("{}\r\n", base64(user.as_bytes())), "AUTH LOGIN's user", &[334])?;
            self.say(&format!("{}\r\n", base64(password.as_bytes())), "AUTH LOGIN's password", &[235])?;
        } else {
            return Err(format!(
                "{} offers no AUTH PLAIN or LOGIN (it offers: {})",
                self.relay,
                if mechanisms.is_empty() { "none".to_owned() } else { mechanisms.join(" ") }
            ));
        }
        Ok(())
    }
}

/// RFC 2045 base64.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "smtp_tests.rs"]
mod tests;
