//! Form posts: from one of our own pages (same origin, the session's form key), and the
//! typed fields read from them.

use std::collections::HashMap;
use std::sync::Arc;

use mamoru_core::service::SessionInfo;
use mamoru_core::time::Date;
use mamoru_core::{Error, Service, wareki};
use warp::{Filter, Rejection};

use super::{FORM_LIMIT, Page, signed_in};

/// A form post from one of our own pages: same origin (when the browser says), and the
/// session's form key.
pub(super) fn check_form(session: &SessionInfo, form: &HashMap<String, String>) -> Result<(), Error> {
    let sent = form.get("form_key").map_or("", String::as_str);
    if sent.is_empty() || sent != session.form_key {
        return Err(Error::Forbidden { action: "a form from another page or an ended session" });
    }
    Ok(())
}

pub(super) fn same_origin() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::header::optional::<String>("origin")
        .and(warp::header::optional::<String>("sec-fetch-site"))
        .and(warp::host::optional())
        .and_then(
            |origin: Option<String>, site: Option<String>, host: Option<warp::host::Authority>| async move {
                // Browsers say where a form came from; a request that says nothing is not a browser's.
                let from_elsewhere = site.is_some_and(|s| s == "cross-site" || s == "same-site");
                let origin_ok = match (origin.as_deref(), host) {
                    (None, _) => true,
                    (Some(o), Some(h)) => origin_matches(o, h.as_str()),
                    (Some(_), None) => false,
                };
                if origin_ok && !from_elsewhere { Ok(()) } else { Err(warp::reject::custom(CrossOrigin)) }
            },
        )
        .untuple_one()
}

/// Whether a form's `Origin` is this site: the same host, over HTTPS — plain HTTP only on a
/// loopback host (the demo, or behind a TLS terminator on the same machine), so a page served
/// in clear under the server's own name cannot post into it.
fn origin_matches(origin: &str, host: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else { return false };
    if rest != host {
        return false;
    }
    let name = host
        .rsplit_once(':')
        .map_or(host, |(n, port)| if port.bytes().all(|b| b.is_ascii_digit()) { n } else { host });
    let loopback = name == "localhost"
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    scheme == "https" || (scheme == "http" && loopback)
}

#[derive(Debug)]
pub(crate) struct CrossOrigin;
impl warp::reject::Reject for CrossOrigin {}

/// A form's text field, trimmed at the ends only.
pub(super) fn text(form: &HashMap<String, String>, key: &str) -> String {
    form.get(key).map(|v| v.trim().to_owned()).unwrap_or_default()
}

/// The revision a form was drawn from.
pub(super) fn rev(form: &HashMap<String, String>) -> Result<u64, Error> {
    text(form, "rev").parse::<u64>().map_err(|_| Error::invalid("rev", "版がありません"))
}

pub(super) fn idempotency_key(form: &HashMap<String, String>) -> Option<String> {
    Some(text(form, "idempotency_key")).filter(|k| !k.is_empty())
}

/// A date field (和暦 typed, or `2026-11-24`): empty is none; a refusal names the field.
pub(super) fn date(form: &HashMap<String, String>, key: &'static str) -> Result<Option<Date>, Error> {
    let t = text(form, key);
    if t.is_empty() { Ok(None) } else { wareki::read_date(key, &t).map(Some) }
}

/// A form post from one of our pages, whatever its path: the form and the page session.
pub(super) fn form_post(
    service: Arc<Service>,
) -> impl Filter<Extract = (HashMap<String, String>, Page), Error = Rejection> + Clone {
    warp::post()
        .and(same_origin())
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(signed_in(service))
}

/// The filter of a form post to `/cases/{id}/{what}`: the case id, the form, the page session.
pub(super) fn case_form(
    service: Arc<Service>,
    what: &'static str,
) -> impl Filter<Extract = (u64, HashMap<String, String>, Page), Error = Rejection> + Clone {
    warp::path("cases")
        .and(warp::path::param::<u64>())
        .and(warp::path(what))
        .and(warp::path::end())
        .and(form_post(service))
}

/// The photos a form names (comma-separated SHA-256s, each sent to the server already); core
/// fills in what it stamped when each arrived.
pub(super) fn photo_list(photos: &str) -> Vec<String> {
    photos.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod origin_tests {
    use super::origin_matches;

    #[test]
    fn the_origin_must_be_this_host_over_https_or_loopback_in_clear() {
        assert!(origin_matches("https://mamoru.city.local:8443", "mamoru.city.local:8443"));
        assert!(origin_matches("https://mamoru.city.local", "mamoru.city.local"));
        assert!(
            !origin_matches("http://mamoru.city.local:8443", "mamoru.city.local:8443"),
            "clear text under our name"
        );
        assert!(!origin_matches("https://evil.example", "mamoru.city.local"));
        assert!(!origin_matches("https://mamoru.city.local.evil.example", "mamoru.city.local"));
        assert!(!origin_matches("null", "mamoru.city.local"));
        assert!(origin_matches("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(origin_matches("http://localhost:8080", "localhost:8080"));
        assert!(origin_matches("http://[::1]:8080", "[::1]:8080"));
        assert!(!origin_matches("ftp://127.0.0.1:8080", "127.0.0.1:8080"));
    }
}
