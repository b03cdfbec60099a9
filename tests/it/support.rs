//! Running the binary: one-shot commands, and a server on a free loopback port that is stopped
//! when dropped. A tiny HTTP/1.1 client over `TcpStream` keeps the test free of client stacks.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct horse battery";

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mamoru"));
    c.env_remove("MAMORU_DATA").env_remove("MAMORU_ADMIN_PASSWORD").env("MAMORU_LOG", "warn");
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Run {
    let out: Output = bin().args(args).stdin(Stdio::null()).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts a failure that prints exactly one line naming the cause, and no panic.
pub fn assert_one_line_failure(r: &Run, needle: &str) {
    assert_ne!(r.code, 0, "expected failure; stdout: {}", r.stdout);
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {}", r.stderr);
    assert!(lines[0].contains(needle), "expected {needle:?} in {:?}", lines[0]);
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("backtrace"), "{}", r.stderr);
}

pub fn password_file(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join(format!("pw-{}.txt", text.len()));
    std::fs::write(&p, format!("{text}\n")).unwrap();
    p
}

/// `mamoru init` into `DIR/data` with administrator `admin`.
pub fn init(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    let pw = password_file(dir, PASSWORD);
    let r = run(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--admin-login",
        "admin",
        "--admin-password-file",
        pw.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    relax_sign_in(&data);
    data
}

/// These tests sign in over the API from no tablet and without a second factor (each policy has
/// tests of its own): turns `[web] require_device` and `require_totp` off in the data
/// directory's config (or writes one that does), and `[ssh] require_totp` with it, unless the
/// config sets them already.
pub fn relax_sign_in(data: &Path) {
    let config = data.join("mamoru.toml");
    let mut text = std::fs::read_to_string(&config).unwrap_or_else(|_| {
        "[web]\n# require_device = true\n# require_totp = true\n[ssh]\n# require_totp = true\n".into()
    });
    for key in ["require_device", "require_totp"] {
        if !text.lines().any(|l| l.starts_with(key)) {
            let commented = format!("# {key} = true");
            assert!(text.contains(&commented), "the config template changed: {text}");
            text = text.replace(&commented, &format!("{key} = false"));
        }
    }
    std::fs::write(&config, text).unwrap();
}

/// The time now, as the server's clock reads it (for the codes an authenticator app would show).
#[expect(clippy::disallowed_methods, reason = "the server runs on the wall clock; so do its TOTP codes")]
pub fn now() -> mamoru_core::time::Timestamp {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    mamoru_core::time::Timestamp(i64::try_from(secs).unwrap())
}

/// A running `mamoru serve` or `mamoru demo`, killed on drop.
pub struct Server {
    child: Child,
    pub addr: String,
    /// The SSH console's `HOST:PORT`.
    pub ssh: String,
    /// For HTTPS: the client configuration that trusts the server's certificate.
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

/// A TLS client configuration trusting exactly the certificates in `cert_pem`.
pub fn trusting(cert_pem: &[u8]) -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    std::sync::Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

impl Server {
    pub fn start(args: &[&str]) -> Self {
        Self::start_with(args, None, &[])
    }

    /// `mamoru serve` over `data`, plain HTTP on a free loopback port, with `env` set for it
    /// alone (what systemd would set).
    pub fn serve_plain_with(data: &Path, env: &[(&str, &str)]) -> Self {
        relax_sign_in(data);
        let d = data.to_str().unwrap();
        Self::start_with(&["serve", "--data", d, "--listen", "127.0.0.1:0", "--plain-http"], None, env)
    }

    /// `mamoru demo` with `children` fictional children in `DIR/demo`, on a free loopback port.
    pub fn demo(dir: &Path, children: u32) -> Self {
        let data = dir.join("demo");
        let n = children.to_string();
        Self::start(&["demo", "--data", data.to_str().unwrap(), "--children", &n, "--listen", "127.0.0.1:0"])
    }

    /// `mamoru serve` over `data`, plain HTTP on a free loopback port.
    pub fn serve_plain(data: &Path) -> Self {
        relax_sign_in(data);
        Self::start(&["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0", "--plain-http"])
    }

    /// Starts an HTTPS server whose certificate the client trusts through `tls`.
    pub fn start_https(args: &[&str], tls: std::sync::Arc<rustls::ClientConfig>) -> Self {
        Self::start_with(args, Some(tls), &[])
    }

    fn start_with(
        args: &[&str],
        tls: Option<std::sync::Arc<rustls::ClientConfig>>,
        env: &[(&str, &str)],
    ) -> Self {
        // Tests run in parallel: every server's console gets a free port unless the test names one.
        let mut args = args.to_vec();
        if !args.contains(&"--ssh-listen") {
            args.extend(["--ssh-listen", "127.0.0.1:0"]);
        }
        let mut child = bin()
            .args(&args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) =
                    line.strip_prefix("web: http://").or_else(|| line.strip_prefix("web: https://"))
                {
                    let _ = tx.send(url.to_owned());
                } else if let Some(addr) = line.strip_prefix("ssh: ") {
                    let _ = tx.send(addr.to_owned());
                }
            }
        });
        let (Ok(addr), Ok(ssh)) =
            (rx.recv_timeout(Duration::from_mins(1)), rx.recv_timeout(Duration::from_secs(10)))
        else {
            let _ = child.kill();
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("server did not start: {err}");
        };
        let server = Self { child, addr, ssh, tls };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = self.try_request("GET", "/healthz", None, None)
                && r.status == 200
            {
                return;
            }
            std::thread::park_timeout(Duration::from_millis(20));
        }
        panic!("server never became healthy");
    }

    pub fn request(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Response {
        self.try_request(method, path, token.map(|t| format!("Authorization: Bearer {t}\r\n")), body).unwrap()
    }

    /// A request carrying a `Cookie` header instead of a bearer token.
    pub fn request_with_cookie(
        &self,
        method: &str,
        path: &str,
        cookie: &str,
        body: Option<&str>,
    ) -> Response {
        self.try_request(method, path, Some(format!("Cookie: {cookie}\r\n")), body).unwrap()
    }

    fn try_request(
        &self,
        method: &str,
        path: &str,
        header: Option<String>,
        body: Option<&str>,
    ) -> std::io::Result<Response> {
        let tcp = TcpStream::connect(&self.addr)?;
        tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut s: Box<dyn ReadWrite> = match &self.tls {
            None => Box::new(tcp),
            Some(cfg) => {
                let name =
                    rustls::pki_types::ServerName::try_from("localhost").map_err(std::io::Error::other)?;
                let conn = rustls::ClientConnection::new(cfg.clone(), name).map_err(std::io::Error::other)?;
                Box::new(rustls::StreamOwned::new(conn, tcp))
            }
        };
        let body = body.unwrap_or("");
        let auth = header.unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )?;
        let mut raw = Vec::new();
        match s.read_to_end(&mut raw) {
            // A TLS peer may close without close_notify after `Connection: close`.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
            other => {
                other?;
            }
        }
        Ok(Response::parse(&raw))
    }

    pub fn sign_in(&self, login: &str, password: &str) -> String {
        let r = self.request(
            "POST",
            "/api/v1/session",
            None,
            Some(&format!(r#"{{"login":"{login}","password":"{password}"}}"#)),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["token"].as_str().unwrap().to_owned()
    }
}

impl Server {
    /// Sends SIGHUP (`systemctl reload`).
    pub fn hangup(&self) {
        let _ = Command::new("kill").args(["-HUP", &self.child.id().to_string()]).status();
    }

    /// Stops the server as systemd would (SIGTERM); its exit code if it exits within `limit`,
    /// else `None` (and it is killed, as systemd would after its stop timeout).
    pub fn stop_within(mut self, limit: Duration) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
        None
    }

    /// Opens `GET /api/v1/events` with `token` and returns the connection once the stream's
    /// headers came (200), kept open to read the events from.
    pub fn open_events(&self, token: &str) -> Box<dyn Read + Send> {
        let tcp = TcpStream::connect(&self.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut s: Box<dyn ReadWriteSend> = match &self.tls {
            None => Box::new(tcp),
            Some(cfg) => {
                let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
                let conn = rustls::ClientConnection::new(cfg.clone(), name).unwrap();
                Box::new(rustls::StreamOwned::new(conn, tcp))
            }
        };
        write!(
            s,
            "GET /api/v1/events HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            assert_eq!(s.read(&mut byte).unwrap(), 1, "the stream closed before its headers");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        Box::new(s)
    }

    /// Stops the server as systemd would (SIGTERM) and waits for it to exit.
    pub fn stop(mut self) -> i32 {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}
trait ReadWriteSend: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWriteSend for T {}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    fn parse(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status =
            lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
        let body = if chunked { dechunk(body) } else { body.to_owned() };
        Self { status, headers, body }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}
