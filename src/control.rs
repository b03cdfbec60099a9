//! The control socket: how a CLI verb reaches a running server, which holds the store. The
//! server listens on `control.sock` in the data directory (mode 0600, like the console's socket:
//! whoever may read the data directory may use it, as with every other local verb); a verb
//! sends one request as a line of JSON and reads one reply, and the server runs it as the local
//! administrator, audited as from the command line. Only the verbs in [`Request`] go this way.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use mamoru_core::Service;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::cli::MaintenanceCommand;

/// The control socket, inside the data directory.
pub const SOCKET_FILE: &str = "control.sock";
/// The longest request read.
const REQUEST_MAX: u64 = 64 * 1024;
/// How long the server waits for a verb's request once connected.
const REQUEST_WITHIN: Duration = Duration::from_secs(10);
/// How long a verb waits for the server's answer.
const ANSWER_WITHIN: Duration = Duration::from_mins(1);

/// A verb a running server answers.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    Maintenance(MaintenanceCommand),
}

/// The server's answer: what the verb prints, or why it failed (one line).
#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    Done(String),
    Failed(String),
}

/// Starts answering verbs on `data`'s control socket (a stale socket file is replaced).
pub fn serve(data: &Path, service: &Arc<Service>) -> Result<tokio::task::JoinHandle<()>> {
    let path = data.join(SOCKET_FILE);
    let listener = mamoru_tui::local::listen(&path)
        .with_context(|| format!("cannot listen on {} for command-line verbs", path.display()))?;
    let service = service.clone();
    Ok(tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(one(stream, service.clone()));
                }
                // Out of file descriptors, say: the socket stays, and answers again once it can.
                Err(error) => {
                    tracing::warn!(%error, "the control socket could not accept a verb");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }))
}

async fn one(stream: tokio::net::UnixStream, service: Arc<Service>) {
    let (rd, mut wr) = stream.into_split();
    let mut line = String::new();
    let mut rd = tokio::io::AsyncReadExt::take(tokio::io::BufReader::new(rd), REQUEST_MAX);
    let read = match tokio::time::timeout(REQUEST_WITHIN, rd.read_line(&mut line)).await {
        Ok(read) => read.map_err(anyhow::Error::from),
        Err(_) => Err(anyhow::anyhow!("no request within {} s", REQUEST_WITHIN.as_secs())),
    };
    let reply = match read.and_then(|_| Ok(serde_json::from_str::<Request>(&line)?)) {
        Err(e) => Reply::Failed(format!("a request the server could not read: {e}")),
        Ok(request) => tokio::task::spawn_blocking(move || answer(&service, &request))
            .await
            .unwrap_or_else(|e| Err(anyhow::anyhow!("the verb stopped: {e}")))
            .map_or_else(|e| Reply::Failed(crate::one_line(&e)), Reply::Done),
    };
    let mut bytes = serde_json::to_vec(&reply).unwrap_or_default();
    bytes.push(b'\n');
    let _ = wr.write_all(&bytes).await;
}

/// What a verb prints, run by the server as the local administrator.
fn answer(service: &Service, request: &Request) -> Result<String> {
    let actor = crate::commands::local_admin(service)?;
    match request {
        Request::Maintenance(cmd) => crate::commands::maintenance_answer(service, &actor, cmd),
    }
}

/// Sends `request` to the server running on `data`: `None` when none answers on the socket
/// (the verb then opens the store itself), else the server's answer.
pub fn ask(data: &Path, request: &Request) -> Result<Option<Result<String>>> {
    let Ok(mut stream) = UnixStream::connect(data.join(SOCKET_FILE)) else {
        return Ok(None);
    };
    stream.set_read_timeout(Some(ANSWER_WITHIN))?;
    let mut bytes = serde_json::to_vec(request)?;
    bytes.push(b'\n');
    stream.write_all(&bytes).context("sending the verb to the running server")?;
    let mut line = String::new();
    // No answer (a timeout, the server stopping) leaves the outcome open: say so, once.
    let unknown = || {
        anyhow::anyhow!(
            "the running server did not answer within {} s: the change may have been made; check before repeating it (mamoru maintenance list)",
            ANSWER_WITHIN.as_secs()
        )
    };
    BufReader::new(stream).read_line(&mut line).map_err(|_| unknown())?;
    let reply: Reply = serde_json::from_str(&line).map_err(|_| unknown())?;
    Ok(Some(match reply {
        Reply::Done(text) => Ok(text),
        Reply::Failed(why) => Err(anyhow::anyhow!(why)),
    }))
}
