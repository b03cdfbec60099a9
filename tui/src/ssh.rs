//! The console's SSH server (russh). A public key first: it is accepted when the login names an
//! active staff member whose console keys list it. Then, where core asks for it, the second
//! factor by keyboard-interactive: a code from the authenticator app, or, for someone without
//! one, the secret to enrol and its first code (`Service::console_sign_in`, `console_code`).
//! Passwords are not offered. Each session channel gets its own `App` (nothing shared between
//! sessions) running over `term::run`, or, when it asks for the `sftp` subsystem, the read-only
//! file access of `files`. Exec requests and other subsystems are refused: this server runs the
//! console, not commands.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mamoru_core::service::{ConsolePending, ConsoleStep};
use mamoru_core::{Actor, Error, Service};
use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey};
use russh::server::{Auth, Config, Handler, Msg, Server, Session};
use russh::{Channel, ChannelId, ChannelMsg, MethodKind, MethodSet};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::app::{App, Host};
use crate::files::Files;
use crate::term::{self, Input};

/// Makes a new Ed25519 host key and writes it (OpenSSH format, mode 0600) to `path`, which must
/// not exist yet. Returns its SHA-256 fingerprint, for the administrator to compare at first
/// connection.
pub fn make_host_key(path: &Path) -> Result<String, String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    let text = key.to_openssh(LineEnding::LF).map_err(|e| format!("cannot encode the host key: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(key.public_key().fingerprint(HashAlg::Sha256).to_string())
}

/// Reads the host key that `make_host_key` wrote.
pub fn load_host_key(path: &Path) -> Result<PrivateKey, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the SSH host key {}: {e}", path.display()))?;
    PrivateKey::from_openssh(text)
        .map_err(|e| format!("the SSH host key {} is not an OpenSSH private key: {e}", path.display()))
}

/// The server's SSH settings: a public key first (then, where core asks, keyboard-interactive for
/// the code), one host key.
#[must_use]
pub fn config(host_key: PrivateKey) -> Arc<Config> {
    Arc::new(Config {
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        auth_rejection_time: Duration::from_millis(500),
        // OpenSSH first asks "none" to learn the methods: answer that at once.
        auth_rejection_time_initial: Some(Duration::ZERO),
        max_auth_attempts: 6,
        keys: vec![host_key],
        inactivity_timeout: Some(Duration::from_hours(1)),
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 4,
        nodelay: true,
        ..Config::default()
    })
}

/// Accepts console connections on `listener` until the returned future is dropped or fails.
pub async fn serve(
    listener: TcpListener,
    config: Arc<Config>,
    service: Arc<Service>,
    host: Arc<dyn Host>,
) -> std::io::Result<()> {
    let mut server = ConsoleServer { service, host };
    server.run_on_socket(config, &listener).await
}

struct ConsoleServer {
    service: Arc<Service>,
    host: Arc<dyn Host>,
}

impl Server for ConsoleServer {
    type Handler = Connection;

    fn new_client(&mut self, peer: Option<SocketAddr>) -> Connection {
        Connection {
            service: Arc::clone(&self.service),
            host: Arc::clone(&self.host),
            peer,
            signed_in: None,
            pending: None,
            refused: None,
            size: None,
            waiting: Vec::new(),
            file_channels: Vec::new(),
        }
    }

    fn handle_session_error(&mut self, error: russh::Error) {
        tracing::debug!(%error, "console connection ended with an error");
    }
}

/// One SSH connection.
pub struct Connection {
    service: Arc<Service>,
    host: Arc<dyn Host>,
    peer: Option<SocketAddr>,
    /// The staff member and the key they signed in with.
    signed_in: Option<(Actor, String)>,
    /// A key accepted, its second factor asked for; and that key.
    pending: Option<(ConsolePending, String)>,
    /// The login last tried and how many keys or passwords were turned away: reported to core
    /// once, when a connection that never signed in ends (see `Drop`).
    refused: Option<(String, u32)>,
    /// The pty size asked for, until the shell starts.
    size: Option<(u32, u32)>,
    /// Channels opened whose shell or subsystem has not started yet.
    waiting: Vec<Channel<Msg>>,
    /// Channels running SFTP.
    file_channels: Vec<ChannelId>,
}

impl Handler for Connection {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        // Only a listed key is asked to sign: a client offering several keys (an agent) is not
        // refused once per key, and nothing is written until the connection ends.
        let Ok(line) = offer.public_key.to_openssh() else { return Ok(self.refuse(user)) };
        let service = Arc::clone(&self.service);
        let login = user.to_owned();
        let listed = tokio::task::spawn_blocking(move || service.console_key_listed(&login, &line)).await;
        if matches!(listed, Ok(true)) { Ok(Auth::Accept) } else { Ok(self.refuse(user)) }
    }

    async fn auth_password(&mut self, user: &str, _password: &str) -> Result<Auth, Self::Error> {
        // Not offered, never looked at; counted as a refusal.
        Ok(self.refuse(user))
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let Ok(line) = key.public_key.to_openssh() else { return Ok(Auth::reject()) };
        let service = Arc::clone(&self.service);
        let login = user.to_owned();
        let check = line.clone();
        let from = self.peer.map(|p| p.ip());
        let outcome =
            tokio::task::spawn_blocking(move || service.console_sign_in(&login, &check, from)).await;
        match outcome {
            Ok(Ok(ConsoleStep::SignedIn(actor))) => {
                tracing::info!(staff = actor.staff().0, peer = ?self.peer, "console sign-in");
                self.signed_in = Some((actor, line));
                Ok(Auth::Accept)
            }
            Ok(Ok(ConsoleStep::Code(pending))) => {
                // The key is right: partial success, and the client goes on to the code.
                self.pending = Some((pending, line));
                Ok(Auth::Reject {
                    proceed_with_methods: Some(MethodSet::from(&[MethodKind::KeyboardInteractive][..])),
                    partial_success: true,
                })
            }
            _ => Ok(self.refuse(user)),
        }
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        // Only after the account's key, for the same login.
        let Some((pending, key)) = self.pending.take().filter(|(p, _)| p.login() == user) else {
            return Ok(self.refuse(user));
        };
        let Some(mut response) = response else {
            let ask = code_prompt(&pending);
            self.pending = Some((pending, key));
            return Ok(ask);
        };
        let code = response.next().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let service = Arc::clone(&self.service);
        let outcome = tokio::task::spawn_blocking(move || {
            let checked = service.console_code(&pending, &code);
            (pending, checked)
        })
        .await;
        match outcome {
            Ok((_, Ok(actor))) => {
                tracing::info!(staff = actor.staff().0, peer = ?self.peer, "console sign-in");
                self.signed_in = Some((actor, key));
                Ok(Auth::Accept)
            }
            Ok((pending, Err(error))) => {
                match error {
                    // The client may ask again (OpenSSH does, up to its prompt count).
                    Error::BadCredentials | Error::TooManyAttempts { .. } => {
                        self.pending = Some((pending, key));
                    }
                    // The second factor changed since the key: this sign-in is over.
                    Error::Unauthenticated => {}
                    error => tracing::error!(%error, "cannot check a console sign-in's code"),
                }
                Ok(Auth::reject())
            }
            Err(_) => Ok(Auth::reject()),
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.signed_in.is_none() {
            return Ok(()); // dropping the reply refuses the channel
        }
        reply.accept().await;
        self.waiting.push(channel);
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        cols: u32,
        rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.size = Some((cols, rows));
        session.channel_success(channel)
    }

    async fn shell_request(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        let (Some((actor, key)), Some(opened)) = (self.signed_in.clone(), self.take_waiting(channel)) else {
            return session.channel_failure(channel);
        };
        session.channel_success(channel)?;
        let (tx, input) = mpsc::channel(64);
        tokio::spawn(read_channel(opened, tx));
        let (cols, rows) = self.size.unwrap_or((0, 0));
        let handle = session.handle();
        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
        // Frames go out in order; when the console ends, the channel closes with status 0.
        let writer = tokio::spawn(async move {
            while let Some(bytes) = out_rx.recv().await {
                if handle.data(channel, bytes).await.is_err() {
                    break;
                }
            }
            let _ = handle.exit_status_request(channel, 0).await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        let service = Arc::clone(&self.service);
        let host = Arc::clone(&self.host);
        let signed_in = actor.clone();
        tokio::spawn(async move {
            let svc = Arc::clone(&service);
            let Ok(app) = tokio::task::spawn_blocking(move || App::new(svc, host, actor)).await else {
                return;
            };
            let alive = move || service.console_still_valid(&signed_in, &key);
            if let Err(e) = term::run(app, input, out_tx, term::area(cols, rows), alive).await {
                tracing::debug!(error = %e, "console session ended");
            }
            let _ = writer.await;
        });
        Ok(())
    }

    async fn channel_eof(&mut self, channel: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        // The client has sent its last request (and read every reply): end the channel with
        // status 0, which OpenSSH's scp waits for to report success.
        if let Some(at) = self.file_channels.iter().position(|c| *c == channel) {
            self.file_channels.swap_remove(at);
            session.exit_status_request(channel, 0)?;
            session.eof(channel)?;
            session.close(channel)?;
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let opened = if name == "sftp" { self.take_waiting(channel) } else { None };
        let (Some((actor, key)), Some(opened)) = (self.signed_in.clone(), opened) else {
            return session.channel_failure(channel);
        };
        session.channel_success(channel)?;
        self.file_channels.push(channel);
        tracing::info!(staff = actor.staff().0, "console file access (sftp)");
        let files = Files::new(Arc::clone(&self.service), actor, key, self.host.folders());
        russh_sftp::server::run(opened.into_stream(), files).await;
        Ok(())
    }
}

impl Connection {
    fn take_waiting(&mut self, channel: ChannelId) -> Option<Channel<Msg>> {
        let at = self.waiting.iter().position(|c| c.id() == channel)?;
        Some(self.waiting.swap_remove(at))
    }

    fn refuse(&mut self, user: &str) -> Auth {
        let count = match self.refused.take() {
            Some((login, n)) if login == user => n + 1,
            _ => 1,
        };
        self.refused = Some((user.to_owned(), count));
        Auth::reject()
    }
}

impl Drop for Connection {
    /// A connection that ends without signing in, having been refused, is one failed sign-in.
    fn drop(&mut self) {
        if self.signed_in.is_some() {
            return;
        }
        let (Some((login, attempts)), Ok(runtime)) =
            (self.refused.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let service = Arc::clone(&self.service);
        let address = self.peer.map(|p| p.ip());
        tracing::debug!(peer = ?self.peer, attempts, "console connection refused");
        runtime.spawn_blocking(move || {
            if let Err(error) = service.console_refused(address, &login, attempts) {
                tracing::error!(%error, "cannot record a refused console connection");
            }
        });
    }
}

/// The keyboard-interactive request for a code. Plain ASCII: OpenSSH shows anything else as
/// escapes. It prints the instructions only at its default log level (`-q` hides them), so the
/// prompt, which it always shows, names the key to enrol too.
fn code_prompt(pending: &ConsolePending) -> Auth {
    let (instructions, prompt) = match pending.enrolment() {
        None => (String::new(), "Authenticator code: ".to_owned()),
        Some((url, key)) => (
            format!(
                "This account has no second factor yet. Add this key to an authenticator app\n\
                 (time-based, 6 digits, as for the tablets), then type the code it shows.\n\n  \
                 Key: {key}\n\n  Or as a link: {url}\n"
            ),
            format!("First code for key {key}: "),
        ),
    };
    Auth::Partial {
        name: "Mamoru console: second factor".into(),
        instructions: instructions.into(),
        prompts: vec![(prompt.into(), false)].into(),
    }
}

/// Forwards what the client sends on a channel to its console.
async fn read_channel(mut channel: Channel<Msg>, tx: mpsc::Sender<Input>) {
    while let Some(msg) = channel.wait().await {
        let input = match msg {
            ChannelMsg::Data { data } => Input::Bytes(data.to_vec()),
            ChannelMsg::WindowChange { col_width, row_height, .. } => {
                let rect = term::area(col_width, row_height);
                Input::Resize(rect.width, rect.height)
            }
            ChannelMsg::Eof | ChannelMsg::Close => break,
            _ => continue,
        };
        if tx.send(input).await.is_err() {
            return;
        }
    }
    let _ = tx.send(Input::Close).await;
}
