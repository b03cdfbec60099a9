//! HTTPS: warp 0.4 has no TLS of its own, so this is the accept loop — rustls (ring, TLS 1.2+,
//! ALPN h2 and http/1.1) in front of hyper-util's auto builder serving the warp filter.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use mamoru_core::Service;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::Health;

/// A checked TLS configuration (rustls stays inside this crate). Clones share the certificate:
/// [`Tls::reload`] on one changes what every later handshake of the server presents, so a renewed
/// certificate is taken without a restart (connections already open keep theirs).
#[derive(Clone, Debug)]
pub struct Tls {
    config: Arc<rustls::ServerConfig>,
    current: Arc<Current>,
}

impl Tls {
    /// From the PEM contents of a certificate chain and its key; a clear error names what is
    /// wrong.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, String> {
        let current = Arc::new(Current(std::sync::RwLock::new(certified(cert_pem, key_pem)?)));
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS: {e}"))?
                .with_no_client_auth()
                .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self { config: Arc::new(config), current })
    }

    /// Presents this certificate chain and key from the next handshake on. Checked first, as in
    /// `from_pem`: on an error nothing changes.
    pub fn reload(&self, cert_pem: &[u8], key_pem: &[u8]) -> Result<(), String> {
        let next = certified(cert_pem, key_pem)?;
        *self.current.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        Ok(())
    }
}

/// The certificate every handshake presents (one for every name: the tablets ask for one host).
#[derive(Debug)]
struct Current(std::sync::RwLock<Arc<rustls::sign::CertifiedKey>>);

impl rustls::server::ResolvesServerCert for Current {
    fn resolve(&self, _hello: rustls::server::ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone())
    }
}

fn certified(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<rustls::sign::CertifiedKey>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("certificate file: {e}"))?;
    if certs.is_empty() {
        return Err("certificate file holds no certificate".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("key file: {e}"))?;
    let provider = rustls::crypto::ring::default_provider();
    let certified = rustls::sign::CertifiedKey::from_der(certs, key, &provider)
        .map_err(|e| format!("certificate and key do not fit together: {e}"))?;
    Ok(Arc::new(certified))
}

/// What the web edge allows a client, so that slow or piled-up connections from one place cannot
/// take the web, the API and the console down for everyone.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Time for a TLS handshake, and for a request's headers once the connection waits for one
    /// (so also how long a kept-alive HTTP/1 connection may sit idle between requests).
    pub header_timeout: Duration,
    /// A connection with no byte in or out for this long is closed (an event stream sends a
    /// comment every 15 seconds, so an open page keeps its stream).
    pub idle_timeout: Duration,
    /// Connections open at once from one address; more are closed as they come.
    pub per_address: usize,
}

impl Limits {
    /// The shortest idle timeout allowed: twice the event stream's 15-second comment, so that a
    /// shorter setting cannot cut every open page's live updates.
    pub const MIN_IDLE: Duration = Duration::from_secs(30);
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_mins(2),
            per_address: 256,
        }
    }
}

/// How long a stop waits for the open connections to finish what they are answering.
const DRAIN: Duration = Duration::from_secs(5);

/// Serves HTTPS on `listener` until `shutdown` resolves; then the event streams end, each
/// connection closes once its request in flight is answered, and it returns when all have (at
/// most `DRAIN` later).
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    health: Health,
    tls: Tls,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let svc =
        warp::service(crate::routes_until(service, Health { https: true, ..health }, Some(stopping.clone())));
    let open = Arc::new(OpenConnections::default());
    let refusals = Refusals::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => {
                drop(listener);
                let _ = stop.send(true);
                let _ = tokio::time::timeout(DRAIN, open.all_closed()).await;
                return;
            }
        };
        let Ok((tcp, peer)) = accepted else {
            // Out of file descriptors, say: do not spin on it.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Some(slot) = open.take(peer.ip(), limits.per_address) else {
            // Refused at once: said as a warning at most once a minute, without the address
            // (it may be a tablet's), so tablets behind one NAT hitting the cap are seen.
            refusals.note();
            continue;
        };
        let (acceptor, svc, mut stopping) = (acceptor.clone(), svc.clone(), stopping.clone());
        tokio::spawn(async move {
            let _slot = slot;
            // A client that never finishes its handshake is dropped.
            let Ok(Ok(stream)) = tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp)).await
            else {
                tracing::debug!("TLS handshake not completed");
                return;
            };
            let activity = Activity::new();
            let io = Watched { inner: stream, activity: activity.clone() };
            let svc = WithPeer { inner: svc, peer, activity: activity.clone() };
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
            builder.http2().timer(TokioTimer::new());
            let conn =
                builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(svc));
            tokio::pin!(conn);
            let check = limits.header_timeout.min(limits.idle_timeout).min(Duration::from_secs(5));
            loop {
                tokio::select! {
                    r = &mut conn => {
                        if let Err(e) = r {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                        return;
                    }
                    // The server stops: the request in flight is answered, then the connection
                    // closes (an event stream ends by itself).
                    () = stopped(&mut stopping) => {
                        conn.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(DRAIN, &mut conn).await;
                        return;
                    }
                    () = tokio::time::sleep(check) => {
                        // Never while a request is being answered (a backup made on request
                        // moves no byte for minutes); until the first request, as long as
                        // headers may take (a client that only sends a preface, or nothing).
                        let limit = if activity.served() { limits.idle_timeout } else { limits.header_timeout };
                        if activity.in_flight() == 0 && activity.idle() >= limit {
                            tracing::debug!("idle connection closed");
                            conn.as_mut().graceful_shutdown();
                            let _ = tokio::time::timeout(Duration::from_secs(5), &mut conn).await;
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// Resolves once the server stops (or its stop signal is gone).
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|s| *s).await;
}

/// Open connections per client address, and a signal when the last one closes (a stop waits
/// for it).
#[derive(Default)]
struct OpenConnections {
    counts: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
    emptied: tokio::sync::Notify,
}

/// One open connection, counted until it is dropped.
struct Slot {
    open: Arc<OpenConnections>,
    ip: std::net::IpAddr,
}

impl OpenConnections {
    fn is_empty(&self) -> bool {
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_empty()
    }

    /// Returns once no connection is open.
    async fn all_closed(&self) {
        loop {
            // Registered before the check, so a close in between is not missed.
            let closed = self.emptied.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            if self.is_empty() {
                return;
            }
            closed.await;
        }
    }

    fn take(self: &Arc<Self>, ip: std::net::IpAddr, limit: usize) -> Option<Slot> {
        let mut map = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(ip).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot { open: self.clone(), ip })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.open.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
        if map.is_empty() {
            self.open.emptied.notify_waiters();
        }
    }
}

/// Refused connections, told as a warning at most once a minute.
#[derive(Default)]
struct Refusals {
    since_told: std::sync::atomic::AtomicU64,
    told_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Refusals {
    fn note(&self) {
        let n = self.since_told.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let mut told = self.told_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if told.is_none_or(|t| t.elapsed() >= Duration::from_mins(1)) {
            *told = Some(std::time::Instant::now());
            self.since_told.store(0, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(
                refused = n,
                "connections refused: too many open from one address (web.max_connections_per_address)"
            );
        }
    }
}

/// When a connection last moved a byte, and the requests it is answering.
#[derive(Clone)]
struct Activity {
    start: std::time::Instant,
    last_ms: Arc<std::sync::atomic::AtomicU64>,
    /// Requests being answered now.
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    served: Arc<std::sync::atomic::AtomicBool>,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: std::time::Instant::now(),
            last_ms: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            in_flight: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            served: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        }
    }

    fn in_flight(&self) -> usize {
        self.in_flight.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn served(&self) -> bool {
        self.served.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(std::sync::atomic::Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A stream that records its activity.
struct Watched<S> {
    inner: S,
    activity: Activity,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The client's address, put into each request (warp's `addr::remote()` only knows its own
/// server's connections).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub std::net::SocketAddr);

#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    peer: std::net::SocketAddr,
    activity: Activity,
}

/// Counts a request as being answered until its response is ready (or the request is dropped).
struct InFlight(Activity);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        self.0.touch();
    }
}

impl<S, B> tower_service::Service<warp::http::Request<B>> for WithPeer<S>
where
    S: tower_service::Service<warp::http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: warp::http::Request<B>) -> Self::Future {
        req.extensions_mut().insert(Peer(self.peer));
        self.activity.served.store(true, std::sync::atomic::Ordering::Relaxed);
        self.activity.in_flight.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let guard = InFlight(self.activity.clone());
        let answer = self.inner.call(req);
        Box::pin(async move {
            let r = answer.await;
            drop(guard);
            r
        })
    }
}
