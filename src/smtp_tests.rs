//! The relay's side of each way in, against a local relay with a certificate from an authority
//! made for the test: what it hears, and whether it heard it over TLS.

use std::net::TcpListener;
use std::sync::mpsc::{Receiver, channel};

use rustls::pki_types::PrivateKeyDer;

use super::*;

/// What a test relay offers.
#[derive(Clone, Copy)]
struct Offer {
    implicit_tls: bool,
    starttls: bool,
    auth: &'static str,
    /// Sends a line more with its answer to STARTTLS (a man in the middle's injection).
    inject: bool,
}

const STARTTLS_PLAIN_LOGIN: Offer =
    Offer { implicit_tls: false, starttls: true, auth: "AUTH PLAIN LOGIN", inject: false };

/// Each line the relay heard, and whether it came over TLS.
type Heard = Vec<(bool, String)>;

trait Io: Read + Write + Send {}
impl<T: Read + Write + Send> Io for T {}

type Lines = BufReader<Box<dyn Io>>;

/// A directory with an authority and a certificate for localhost, and the password file.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(password: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let today = mamoru_core::time::Clock::now(&crate::clock::SystemClock).jst_date();
        crate::tls::make_new(dir.path(), &["localhost".to_owned()], today).unwrap();
        std::fs::write(dir.path().join("smtp.password"), format!("{password}\n")).unwrap();
        Self { dir }
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join(crate::tls::CA_FILE)
    }

    fn login(&self) -> (String, PathBuf) {
        ("alert-user".to_owned(), self.dir.path().join("smtp.password"))
    }

    fn server(&self) -> Arc<rustls::ServerConfig> {
        let certs = CertificateDer::pem_file_iter(self.dir.path().join(crate::tls::CERT_FILE))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(self.dir.path().join(crate::tls::KEY_FILE)).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap(),
        )
    }
}

/// A relay for one conversation on its own thread; it takes the password `right-pw`.
fn relay(offer: Offer, tls: Arc<rustls::ServerConfig>) -> (String, Receiver<Heard>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("localhost:{}", listener.local_addr().unwrap().port());
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut heard = Vec::new();
        if let Ok((tcp, _)) = listener.accept() {
            let _ = converse(&tcp, offer, &tls, &mut heard);
        }
        let _ = tx.send(heard);
    });
    (addr, rx)
}

fn over_tls(tcp: &TcpStream, tls: &Arc<rustls::ServerConfig>) -> std::io::Result<Lines> {
    let conn = rustls::ServerConnection::new(tls.clone()).map_err(std::io::Error::other)?;
    Ok(BufReader::new(Box::new(rustls::StreamOwned::new(conn, tcp.try_clone()?))))
}

fn answer(io: &mut Lines, text: &str) -> std::io::Result<()> {
    let w = io.get_mut();
    w.write_all(text.as_bytes())?;
    w.flush()
}

fn converse(
    tcp: &TcpStream,
    offer: Offer,
    tls: &Arc<rustls::ServerConfig>,
    heard: &mut Heard,
) -> std::io::Result<()> {
    let mut secure = offer.implicit_tls;
    let mut io: Lines = if secure { over_tls(tcp, tls)? } else { BufReader::new(Box::new(tcp.try_clone()?)) };
    answer(&mut io, "220 relay ESMTP\r\n")?;
    let (mut in_data, mut login_step) = (false, 0);
    loop {
        let mut line = String::new();
        if io.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_owned();
        heard.push((secure, line.clone()));
        let ok = |good: bool| if good { "235 2.7.0 ok\r\n" } else { "535 5.7.8 authentication failed\r\n" };
        if in_data {
            if line == "." {
                in_data = false;
                answer(&mut io, "250 queued\r\n")?;
            }
            continue;
        }
        match login_step {
            1 => {
                login_step = 2;
                answer(&mut io, "334 UGFzc3dvcmQ6\r\n")?;
                continue;
            }
            2 => {
                login_step = 0;
                answer(&mut io, ok(line == base64(b"right-pw")))?;
                continue;
            }
            _ => {}
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            let mut offers = String::from("250-relay\r\n");
            if offer.starttls && !secure {
                offers += "250-STARTTLS\r\n";
            }
            if secure {
                offers.push_str("250-");
                offers.push_str(offer.auth);
                offers.push_str("\r\n");
            }
            answer(&mut io, &(offers + "250 8BITMIME\r\n"))?;
        } else if upper == "STARTTLS" {
            answer(
                &mut io,
                if offer.inject { "220 go ahead\r\n250 injected\r\n" } else { "220 go ahead\r\n" },
            )?;
            io = over_tls(tcp, tls)?;
            secure = true;
        } else if let Some(token) = line.strip_prefix("AUTH PLAIN ") {
            answer(&mut io, ok(token == base64(b"\0alert-user\0right-pw")))?;
        } else if upper == "AUTH LOGIN" {
            login_step = 1;
            answer(&mut io, "334 VXNlcm5hbWU6\r\n")?;
        } else if upper == "DATA" {
            in_data = true;
            answer(&mut io, "354 go on\r\n")?;
        } else if upper == "QUIT" {
            return answer(&mut io, "221 bye\r\n");
        } else {
            answer(&mut io, "250 ok\r\n")?;
        }
    }
}

fn send(relay: &Relay) -> Result<(), String> {
    relay.send("mamoru@city.example", &["jouhou@city.example".to_owned()], "Subject: t\r\n\r\nhello\r\n")
}

fn heard(rx: &Receiver<Heard>) -> Heard {
    rx.recv_timeout(Duration::from_secs(30)).unwrap()
}

fn said(heard: &Heard, over_tls: bool) -> Vec<&str> {
    heard.iter().filter(|(tls, _)| *tls == over_tls).map(|(_, l)| l.as_str()).collect()
}

#[test]
fn starttls_comes_before_the_password_and_the_message() {
    let s = Setup::new("right-pw");
    let (addr, rx) = relay(STARTTLS_PLAIN_LOGIN, s.server());
    let relay = Relay::new(&addr, Security::Starttls, Some(&s.ca()), Some(s.login())).unwrap();
    send(&relay).unwrap();
    let heard = heard(&rx);
    assert_eq!(said(&heard, false), ["EHLO city.example", "STARTTLS"], "{heard:?}");
    let secure = said(&heard, true);
    assert_eq!(
        secure[..2],
        ["EHLO city.example".to_owned(), format!("AUTH PLAIN {}", base64(b"\0alert-user\0right-pw"))]
    );
    assert!(secure.contains(&"MAIL FROM:<mamoru@city.example>") && secure.contains(&"hello"), "{heard:?}");
}

#[test]
fn tls_from_the_first_byte_with_auth_login() {
    let s = Setup::new("right-pw");
    let offer = Offer { implicit_tls: true, starttls: false, auth: "AUTH LOGIN", inject: false };
    let (addr, rx) = relay(offer, s.server());
    let relay = Relay::new(&addr, Security::Tls, Some(&s.ca()), Some(s.login())).unwrap();
    send(&relay).unwrap();
    let heard = heard(&rx);
    assert!(said(&heard, false).is_empty(), "{heard:?}");
    let secure = said(&heard, true);
    assert_eq!(secure[1..4], ["AUTH LOGIN".to_owned(), base64(b"alert-user"), base64(b"right-pw")]);
    assert!(secure.contains(&"hello"), "{heard:?}");
}

#[test]
fn nothing_is_sent_without_starttls_to_a_strange_certificate_or_after_an_injection() {
    let s = Setup::new("right-pw");
    let nothing_after_starttls = |heard: &Heard| {
        assert!(said(heard, true).is_empty(), "{heard:?}");
        assert!(said(heard, false).iter().all(|l| l.starts_with("EHLO") || *l == "STARTTLS"), "{heard:?}");
    };

    let (addr, rx) = relay(Offer { starttls: false, ..STARTTLS_PLAIN_LOGIN }, s.server());
    let e =
        send(&Relay::new(&addr, Security::Starttls, Some(&s.ca()), Some(s.login())).unwrap()).unwrap_err();
    assert!(e.contains("does not offer STARTTLS; nothing was sent"), "{e}");
    nothing_after_starttls(&heard(&rx));

    // The relay's certificate is from an authority other than the one configured.
    let other = Setup::new("right-pw");
    let (addr, rx) = relay(STARTTLS_PLAIN_LOGIN, s.server());
    let e = send(&Relay::new(&addr, Security::Starttls, Some(&other.ca()), Some(s.login())).unwrap())
        .unwrap_err();
    assert!(e.contains("TLS") && e.contains("certificate"), "{e}");
    nothing_after_starttls(&heard(&rx));

    let (addr, rx) = relay(Offer { inject: true, ..STARTTLS_PLAIN_LOGIN }, s.server());
    let e =
        send(&Relay::new(&addr, Security::Starttls, Some(&s.ca()), Some(s.login())).unwrap()).unwrap_err();
    // Caught as sent with the answer; had it come a moment later, the handshake reads it.
    assert!(e.contains("sent more after its answer to STARTTLS") || e.contains("TLS"), "{e}");
    nothing_after_starttls(&heard(&rx));
}

#[test]
fn a_refused_password_fails_the_delivery_without_showing_the_password() {
    let s = Setup::new("wrong-pw");
    let (addr, rx) = relay(STARTTLS_PLAIN_LOGIN, s.server());
    let e =
        send(&Relay::new(&addr, Security::Starttls, Some(&s.ca()), Some(s.login())).unwrap()).unwrap_err();
    assert!(e.contains("refused AUTH PLAIN: 535"), "{e}");
    assert!(!e.contains("wrong-pw") && !e.contains(&base64(b"\0alert-user\0wrong-pw")), "{e}");
    assert!(!said(&heard(&rx), true).iter().any(|l| l.starts_with("MAIL")));
}

#[test]
fn a_login_without_tls_or_a_missing_file_is_refused_at_start() {
    let s = Setup::new("right-pw");
    let e = Relay::new("localhost:25", Security::Plain, None, Some(s.login())).err().unwrap();
    assert!(format!("{e:#}").contains("never sent in clear"), "{e:#}");
    let missing = s.dir.path().join("missing.pem");
    let e = Relay::new("localhost:25", Security::Starttls, Some(&missing), None).err().unwrap();
    assert!(format!("{e:#}").contains("smtp_ca") && format!("{e:#}").contains("missing.pem"), "{e:#}");
    let login = Some(("alert-user".to_owned(), s.dir.path().join("missing.password")));
    let e = Relay::new("localhost:25", Security::Starttls, Some(&s.ca()), login).err().unwrap();
    assert!(format!("{e:#}").contains("smtp_password_file"), "{e:#}");
    assert_eq!(host("[::1]:25"), "::1");
    assert_eq!(host("relay.city.example:587"), "relay.city.example");
}
