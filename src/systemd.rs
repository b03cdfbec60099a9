//! What the server tells systemd (`Type=notify`): ready once the web listens, stopping at a
//! shutdown, and the watchdog petted by the prober after each probe that reached the web through
//! the real HTTP(S) stack and read the store. A stalled store or web stalls the prober or fails
//! its probe, the petting stops, and systemd restarts the server after `WatchdogSec`. Without
//! systemd (no `NOTIFY_SOCKET`) each is nothing.

use std::time::Duration;

use sd_notify::NotifyState;

fn tell(state: NotifyState<'_>, what: &str) {
    if let Err(error) = sd_notify::notify(&[state]) {
        tracing::warn!(%error, "could not tell systemd {what}");
    }
}

/// The web listens.
pub fn ready() {
    tell(NotifyState::Ready, "the server is ready");
}

/// A shutdown has begun.
pub fn stopping() {
    tell(NotifyState::Stopping, "the server is stopping");
}

/// A probe found the web and the store answering.
pub fn pet() {
    if sd_notify::watchdog_enabled().is_some() {
        tell(NotifyState::Watchdog, "the watchdog");
    }
}

/// Warns when systemd's watchdog would fire between two probes (the prober pets it once a probe).
pub fn check_watchdog(probe_every: Duration) {
    if let Some(limit) = sd_notify::watchdog_enabled()
        && limit <= probe_every
    {
        tracing::warn!(
            watchdog_seconds = limit.as_secs(),
            probe_every_seconds = probe_every.as_secs(),
            "WatchdogSec is not longer than the probe interval: systemd will restart a healthy server; set it to at least three intervals"
        );
    }
}
