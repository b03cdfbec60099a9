//! The console on the server's own terminal (`mamoru console`). The running server listens on a
//! Unix socket in the data directory (mode 0600: whoever may read the data directory may use it,
//! as with every other local verb); `mamoru console` puts the terminal in raw mode and bridges
//! it to that socket. When no server runs, the same bridge talks to an in-process console over a
//! socket pair. Either way the app is the one SSH users get.
//!
//! On the socket, the terminal sends frames: `d` + u16 length + bytes (keys), `r` + u16 columns +
//! u16 rows (a size). The console sends back plain terminal output.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream as StdStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mamoru_core::{Actor, Service};
use ratatui::crossterm::terminal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use crate::app::{App, Host};
use crate::term::{self, Input};

/// Listens for local consoles at `path` (a stale socket file is replaced; mode 0600).
pub fn listen(path: &Path) -> std::io::Result<UnixListener> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(listener)
}

/// Serves local consoles on `listener` until dropped.
pub async fn serve(listener: UnixListener, service: Arc<Service>, host: Arc<dyn Host>, actor: Actor) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(session(stream, Arc::clone(&service), Arc::clone(&host), actor.clone()));
    }
}

/// One local console over `stream`.
pub async fn session(stream: UnixStream, service: Arc<Service>, host: Arc<dyn Host>, actor: Actor) {
    let (mut rd, mut wr) = stream.into_split();
    let (in_tx, in_rx) = mpsc::channel(64);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    // The first frame is the terminal's size.
    let size = match read_frame(&mut rd).await {
        Some(Input::Resize(c, r)) => term::area(c.into(), r.into()),
        _ => term::area(0, 0),
    };
    tokio::spawn(async move {
        while let Some(input) = read_frame(&mut rd).await {
            if in_tx.send(input).await.is_err() {
                return;
            }
        }
        let _ = in_tx.send(Input::Close).await;
    });
    let writer = tokio::spawn(async move {
        while let Some(bytes) = out_rx.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    let Ok(app) = tokio::task::spawn_blocking(move || App::new(service, host, actor)).await else { return };
    if let Err(e) = term::run(app, in_rx, out_tx, size, || true).await {
        tracing::debug!(error = %e, "local console ended");
    }
    let _ = writer.await;
}

async fn read_frame(rd: &mut (impl AsyncReadExt + Unpin)) -> Option<Input> {
    let kind = rd.read_u8().await.ok()?;
    match kind {
        b'd' => {
            let len = rd.read_u16().await.ok()?;
            let mut buf = vec![0; usize::from(len)];
            rd.read_exact(&mut buf).await.ok()?;
            Some(Input::Bytes(buf))
        }
        b'r' => {
            let cols = rd.read_u16().await.ok()?;
            let rows = rd.read_u16().await.ok()?;
            Some(Input::Resize(cols, rows))
        }
        _ => None,
    }
}

fn size_frame() -> [u8; 5] {
    let (c, r) = terminal::size().unwrap_or((80, 24));
    let (c, r) = (c.to_be_bytes(), r.to_be_bytes());
    [b'r', c[0], c[1], r[0], r[1]]
}

/// Runs this process's terminal as a console over `stream` until the console ends. Restores
/// the terminal on the way out, whatever happens.
pub fn attach(stream: StdStream) -> std::io::Result<()> {
    let writer = Arc::new(Mutex::new(stream.try_clone()?));
    let send = move |w: &Arc<Mutex<StdStream>>, bytes: &[u8]| -> std::io::Result<()> {
        w.lock().unwrap_or_else(std::sync::PoisonError::into_inner).write_all(bytes)
    };
    send(&writer, &size_frame())?;
    terminal::enable_raw_mode()?;
    // Keys: stdin in chunks, framed.
    let w = Arc::clone(&writer);
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let mut stdin = std::io::stdin().lock();
        while let Ok(n @ 1..) = stdin.read(&mut buf) {
            let len = u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
            let mut frame = vec![b'd', len[0], len[1]];
            frame.extend_from_slice(&buf[..n]);
            if send(&w, &frame).is_err() {
                return;
            }
        }
    });
    // Sizes: polled (no signal handling needed), sent when they change.
    let w = Arc::clone(&writer);
    std::thread::spawn(move || {
        let mut last = size_frame();
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let now = size_frame();
            if now != last {
                last = now;
                if send(&w, &now).is_err() {
                    return;
                }
            }
        }
    });
    // Frames out as they come: stdout is line-buffered, and a frame seldom ends a line.
    let mut stream = stream;
    let mut out = std::io::stdout().lock();
    let mut buf = [0u8; 16 * 1024];
    let result = loop {
        match stream.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = out.write_all(&buf[..n]).and_then(|()| out.flush()) {
                    break Err(e);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    drop(out);
    let restored = terminal::disable_raw_mode();
    println!();
    result.and(restored)
}
