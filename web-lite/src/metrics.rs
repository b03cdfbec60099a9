//! `GET /metrics` for the city's Prometheus or Zabbix, in the `OpenMetrics` text format (prometheus-client):
//! requests, server errors and response times per page since the server started (the page as
//! the monthly report names it: the route without ids, nothing personal), and, read at each
//! scrape, sessions, tablets, the store, the disk, backups, the archive and the last self-probe.
//! For a scraper with the configured token or a signed-in administrator
//! (`Service::metrics_access`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mamoru_core::traffic::OTHER_PAGES;
use mamoru_core::{Error, Service};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::api::{SESSION_COOKIE, peer, token};
use crate::{blocking, error_response, with};

/// Response-time buckets in seconds; 3 s is the specification's limit for online pages.
const BUCKETS: [f64; 12] = [0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0, 10.0];

/// A page, as a label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Page {
    page: String,
}

/// At most this many pages are told apart since the start; the rest count as `OTHER_PAGES` (a
/// client making up paths that answer, such as redirects to the sign-in, cannot grow the series).
const MAX_PAGES: usize = 200;

/// The per-page counts since the server started (one set for the server's routes).
#[derive(Debug)]
pub(crate) struct Metrics {
    requests: Family<Page, Counter>,
    errors: Family<Page, Counter>,
    seconds: Family<Page, Histogram, fn() -> Histogram>,
    pages: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            errors: Family::default(),
            seconds: Family::new_with_constructor(|| Histogram::new(BUCKETS)),
            pages: Mutex::new(HashSet::new()),
        }
    }
}

impl Metrics {
    /// One answered request to `page`.
    pub(crate) fn observe(&self, page: &str, elapsed: Duration, server_error: bool) {
        let label = {
            let mut pages = self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let known = pages.contains(page) || (pages.len() < MAX_PAGES && pages.insert(page.to_owned()));
            Page { page: if known { page } else { OTHER_PAGES }.to_owned() }
        };
        self.requests.get_or_create(&label).inc();
        // Made at 0 with the page, so a rate sees the first error too.
        let errors = self.errors.get_or_create(&label);
        if server_error {
            errors.inc();
        }
        self.seconds.get_or_create(&label).observe(elapsed.as_secs_f64());
    }

    /// Everything, as `OpenMetrics` text.
    pub(crate) fn text(&self, svc: &Service, version: &str) -> String {
        let mut r = Registry::default();
        r.register(
            "mamoru_http_requests",
            "Requests answered, per page, since the server started",
            self.requests.clone(),
        );
        r.register(
            "mamoru_http_server_errors",
            "Requests answered with a server error (5xx), per page, since the server started",
            self.errors.clone(),
        );
        r.register(
            "mamoru_http_request_duration_seconds",
            "Time to answer a request, per page, since the server started",
            self.seconds.clone(),
        );
        r.register("mamoru_build", "The running version", Info::new(vec![("version", version.to_owned())]));
        let mut gauge = |name: &str, help: &str, value: Option<i64>| {
            if let Some(v) = value {
                let g = Gauge::<i64>::default();
                g.set(v);
                r.register(name, help, g);
            }
        };
        let count = |n: usize| i64::try_from(n).ok();
        let b = svc.backup_health();
        gauge("mamoru_up", "1 while the server runs", Some(1));
        gauge("mamoru_store_bytes", "Size of the store file", i64::try_from(svc.store_bytes()).ok());
        let free = svc.disk_space().and_then(|d| i64::try_from(d.free_bytes).ok());
        gauge("mamoru_disk_free_bytes", "Free space on the store's disk", free);
        gauge(
            "mamoru_store_writable",
            "1 while the store can write",
            Some(i64::from(svc.health().store_writable)),
        );
        if let Ok(Some(p)) = svc.last_probe() {
            let age = svc.now().0 - p.at.0;
            gauge("mamoru_probe_age_seconds", "Seconds since the server last probed itself", Some(age));
            let web = Some(i64::from(p.web));
            gauge("mamoru_probe_web", "1 if the last self-probe reached /healthz over the network", web);
            let serving = Some(i64::from(p.serving()));
            gauge("mamoru_probe_serving", "1 if the last self-probe found the service provided", serving);
            gauge("mamoru_probe_problems", "Problems the last self-probe found", count(p.problems().len()));
        }
        gauge(
            "mamoru_alerts_open",
            "Alerts raised and not yet cleared",
            svc.open_alerts().ok().and_then(|a| count(a.len())),
        );
        gauge("mamoru_sessions", "Open sign-in sessions", count(svc.sessions_open()));
        gauge(
            "mamoru_devices_active",
            "Tablets registered and not revoked",
            svc.devices_active().ok().and_then(count),
        );
        gauge(
            "mamoru_backup_age_seconds",
            "Seconds since the last verified backup generation",
            b.age_seconds,
        );
        gauge("mamoru_backup_failing", "1 if the last backup attempt failed", Some(i64::from(b.failing)));
        gauge(
            "mamoru_archive_age_seconds",
            "Seconds since the change archive last caught up",
            b.archive_age_seconds,
        );
        gauge(
            "mamoru_archive_failing",
            "1 if the last archive shipment failed",
            Some(i64::from(b.archive_failing)),
        );
        let mut text = String::new();
        // Writing into a String does not fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &r);
        text
    }
}

/// `GET /metrics`.
pub(crate) fn route(
    service: Arc<Service>,
    metrics: Arc<Metrics>,
    version: &'static str,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("metrics")
        .and(warp::get())
        .and(peer())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::cookie::optional::<String>(SESSION_COOKIE))
        .and(with(service))
        .then(move |peer: Option<std::net::SocketAddr>, auth, cookie, svc: Arc<Service>| {
            let metrics = metrics.clone();
            async move {
                let Some(t) = token(auth, cookie) else {
                    return error_response(&Error::Unauthenticated);
                };
                let text = blocking(move || {
                    svc.metrics_access(&t, peer.map(|p| p.ip()))?;
                    Ok(metrics.text(&svc, version))
                })
                .await;
                match text {
                    Ok(text) => warp::reply::with_header(
                        text,
                        "content-type",
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )
                    .into_response(),
                    Err(e) => error_response(&e),
                }
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_pages_beyond_the_limit_share_one_series_and_errors_start_at_zero() {
        let m = Metrics::default();
        for i in 0..(MAX_PAGES + 50) {
            m.observe(&format!("/children/{{id}}/family/w{i}"), Duration::from_millis(3), false);
        }
        m.observe("/children/{id}/family/w0", Duration::from_millis(3), true);
        let mut r = Registry::default();
        r.register("requests", "", m.requests.clone());
        r.register("errors", "", m.errors.clone());
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &r).unwrap();
        let series = text.lines().filter(|l| l.starts_with("requests_total{")).count();
        assert_eq!(series, MAX_PAGES + 1, "{text}");
        assert!(text.contains("requests_total{page=\"(other)\"} 50"), "{text}");
        assert!(text.contains("errors_total{page=\"/children/{id}/family/w0\"} 1"), "{text}");
        assert!(text.contains("errors_total{page=\"/children/{id}/family/w1\"} 0"), "{text}");
    }
}
