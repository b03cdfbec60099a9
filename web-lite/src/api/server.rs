//! What the server itself answers: the client's address, tablets (`/api/v1/devices`),
//! a backup now (`/api/v1/backups`), planned stops (`/api/v1/maintenance`) and the photos of a
//! case.

use std::sync::Arc;

use bytes::Bytes;
use mamoru_core::case::Photo;
use mamoru_core::device::{DeviceChange, DeviceName};
use mamoru_core::ids::{CaseId, DeviceId};
use mamoru_core::service::Versioned;
use mamoru_core::{Error, Service};
use serde::Deserialize;
use serde_json::json;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Reply};

use super::{Authed, AuthedJson, PHOTO_LIMIT, authed_json, authenticated, json_ok, respond};
use crate::{blocking, error_body, error_response};

/// The client's address: from the TLS accept loop's extension, or warp's own server.
pub(crate) fn peer()
-> impl Filter<Extract = (Option<std::net::SocketAddr>,), Error = std::convert::Infallible> + Clone {
    warp::ext::optional::<crate::tls::Peer>()
        .and(warp::addr::remote())
        .map(|ext: Option<crate::tls::Peer>, remote| ext.map(|p| p.0).or(remote))
}

/// `POST /api/v1/cases/{id}/photos`: one photo taken for the case, the raw image as the body
/// (JPEG, PNG or WebP by its first bytes; at most 10 MB); the same bytes again give back the same
/// photo. `GET /api/v1/cases/{id}/photos/{sha256}`: its bytes, for whoever may read the case.
pub(crate) fn photos(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let add = warp::path!("api" / "v1" / "cases" / u64 / "photos")
        .and(warp::post())
        .and(warp::body::content_length_limit(PHOTO_LIMIT))
        .and(warp::body::bytes())
        .and(authenticated(service.clone()))
        .then(|case: u64, bytes: Bytes, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || svc.add_photo(&session.actor, CaseId(case), &bytes)).await;
            // A refused photo is told to the tablet in Japanese too: it shows it beside the photo.
            if let Err(e @ Error::Invalid { .. }) = &result {
                let body = json!({ "error": {
                    "code": e.code(), "message": e.to_string(), "message_ja": crate::ui::japanese_message(e) } });
                return warp::reply::with_status(warp::reply::json(&body), StatusCode::UNPROCESSABLE_ENTITY)
                    .into_response();
            }
            respond(result, |p| {
                let body = json!({
                    "id": p.id,
                    "sha256": p.body.sha256,
                    "mime": p.body.mime,
                    "size": p.body.size,
                    "taken_at": p.body.taken_at,
                    "url": format!("/api/v1/cases/{case}/photos/{}", p.body.sha256),
                });
                json_ok(StatusCode::CREATED, &body)
            })
        });
    let get = warp::path!("api" / "v1" / "cases" / u64 / "photos" / String)
        .and(warp::get())
        .and(authenticated(service))
        .then(|case: u64, sha: String, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return error_response(&Error::NotFound { what: "photo", id: sha });
            }
            let result = blocking(move || svc.photo(&session.actor, CaseId(case), &sha)).await;
            respond(result, |(photo, bytes)| photo_response(&photo, bytes))
        });
    add.or(get).unify()
}

/// A photo's bytes, with its type, a file name for saving it, and no sniffing.
fn photo_response(photo: &Versioned<Photo>, bytes: Vec<u8>) -> Response {
    let ext = photo.body.mime.trim_start_matches("image/").replace("jpeg", "jpg");
    let mut r = Response::new(bytes.into());
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&photo.body.mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"photo-{}.{ext}\"", photo.id)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r
}

#[derive(Deserialize)]
pub(super) struct DeviceIn {
    name: String,
}

/// `POST /api/v1/devices` registers a tablet (administrators; the secret is shown once),
/// `GET` lists them, `DELETE /api/v1/devices/{id}` revokes one: its sessions end at once.
pub(crate) fn devices(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    register_device(service.clone())
        .or(device_code(service.clone()))
        .unify()
        .or(device_list(service.clone()))
        .unify()
        .or(revoke_device(service))
        .unify()
}

fn register_device(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "devices").and(warp::post()).and(authed_json::<DeviceIn>(service)).then(
        |input: AuthedJson<DeviceIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result =
                blocking(move || svc.register_device(&session.actor, &DeviceName::parse(&input.name)?)).await;
            respond(result, |(id, secret)| {
                json_ok(StatusCode::CREATED, &json!({ "id": id, "secret": secret }))
            })
        },
    )
}

/// A one-time code the tablet enters on /register (24 hours); the usual way to register.
fn device_code(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "devices" / "codes")
        .and(warp::post())
        .and(authed_json::<DeviceIn>(service))
        .then(|input: AuthedJson<DeviceIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result =
                blocking(move || svc.issue_device_code(&session.actor, &DeviceName::parse(&input.name)?))
                    .await;
            respond(result, |(id, code, expires)| {
                json_ok(StatusCode::CREATED, &json!({ "id": id, "code": code, "expires_at": expires }))
            })
        })
}

fn device_list(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "devices").and(warp::get()).and(authenticated(service)).then(
        |auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || svc.devices(&session.actor)).await;
            respond(result, |all| {
                let items: Vec<_> = all
                    .iter()
                    .map(|d| {
                        json!({ "id": d.id, "name": d.body.name, "active": d.body.is_active(),
                                "pending": d.body.is_pending(), "rev": d.rev })
                    })
                    .collect();
                json_ok(StatusCode::OK, &json!({ "devices": items }))
            })
        },
    )
}

fn revoke_device(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "devices" / u64).and(warp::delete()).and(authenticated(service)).then(
        |id: u64, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let revoke = move || svc.change_device(&session.actor, DeviceId(id), DeviceChange::Revoke);
            respond(blocking(revoke).await, |_| StatusCode::NO_CONTENT.into_response())
        },
    )
}

/// `POST /api/v1/backups`: an administrator makes a backup generation now, while the server
/// keeps serving (the console's "run now" uses the same service call).
pub(crate) fn backup_now(
    service: Arc<Service>,
    op: Option<crate::BackupNow>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "v1" / "backups").and(warp::post()).and(authenticated(service)).then(
        move |auth: Authed| {
            let op = op.clone();
            async move {
                let (svc, session) = or_respond!(auth);
                let Some(op) = op else {
                    return error_body(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "backups are not configured here",
                    );
                };
                let result = blocking(move || {
                    svc.authorize_backup(&session.actor)?;
                    op().map_err(|e| Error::invalid("backup", e))
                })
                .await;
                respond(result, |summary| json_ok(StatusCode::CREATED, &json!({ "generation": summary })))
            }
        },
    )
}

/// `GET /api/v1/maintenance` lists the planned stops, `POST` announces one; `PUT
/// /api/v1/maintenance/{id}` changes one (`{"rev", "from", "to", "reason"}`), `POST
/// /api/v1/maintenance/{id}/cancel` (`{"rev"}`) calls it off (administrators).
pub(crate) fn maintenance(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    use mamoru_core::ids::MaintenanceId;
    use mamoru_core::maintenance::{MaintenanceChange, NewMaintenance};
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rev {
        rev: u64,
    }
    let list = warp::path!("api" / "v1" / "maintenance")
        .and(warp::get())
        .and(authenticated(service.clone()))
        .then(|auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || svc.maintenance_list(&session.actor)).await;
            respond(result, |all| json_ok(StatusCode::OK, &json!({ "maintenance": all })))
        });
    let add = warp::path!("api" / "v1" / "maintenance")
        .and(warp::post())
        .and(authed_json::<NewMaintenance>(service.clone()))
        .then(|input: AuthedJson<NewMaintenance>| async move {
            let (svc, session, new) = or_respond!(input);
            let result = blocking(move || svc.announce_maintenance(&session.actor, new)).await;
            respond(result, |m| json_ok(StatusCode::CREATED, &m))
        });
    let change = warp::path!("api" / "v1" / "maintenance" / u64)
        .and(warp::put())
        .and(authed_json::<MaintenanceChange>(service.clone()))
        .then(|id: u64, input: AuthedJson<MaintenanceChange>| async move {
            let (svc, session, change) = or_respond!(input);
            let result =
                blocking(move || svc.change_maintenance(&session.actor, MaintenanceId(id), change)).await;
            respond(result, |m| json_ok(StatusCode::OK, &m))
        });
    let cancel = warp::path!("api" / "v1" / "maintenance" / u64 / "cancel")
        .and(warp::post())
        .and(authed_json::<Rev>(service))
        .then(|id: u64, input: AuthedJson<Rev>| async move {
            let (svc, session, Rev { rev }) = or_respond!(input);
            let result =
                blocking(move || svc.cancel_maintenance(&session.actor, MaintenanceId(id), rev)).await;
            respond(result, |m| json_ok(StatusCode::OK, &m))
        });
    list.or(add).unify().or(change).unify().or(cancel).unify()
}

/// `GET /api/v1/reports/service?month=2026-11&format=pdf|xlsx`: the monthly サービス提供報告書
/// (administrators; the month before this one when none is given).
pub(crate) fn service_report(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    #[derive(serde::Deserialize)]
    struct Query {
        month: Option<String>,
        format: Option<String>,
    }
    warp::path!("api" / "v1" / "reports" / "service")
        .and(warp::get())
        .and(warp::query::<Query>())
        .and(authenticated(service))
        .then(|q: Query, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result = blocking(move || {
                let month = match q.month.as_deref() {
                    Some(m) => mamoru_core::service_report::Month::parse(m)?,
                    None => mamoru_core::service::last_month(svc.now().jst_date()),
                };
                let pdf = match q.format.as_deref() {
                    None | Some("pdf") => true,
                    Some("xlsx") => false,
                    Some(_) => return Err(mamoru_core::Error::invalid("format", "pdf or xlsx")),
                };
                Ok((svc.service_report_files(&session.actor, month)?, pdf))
            })
            .await;
            respond(result, |(files, pdf)| {
                let name = format!("サービス提供報告書_{}", files.report.month.slug());
                if pdf {
                    super::file_response(
                        files.pdf,
                        "application/pdf",
                        "attachment",
                        ("service-report.pdf", &format!("{name}.pdf")),
                    )
                } else {
                    super::file_response(
                        files.xlsx,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        "attachment",
                        ("service-report.xlsx", &format!("{name}.xlsx")),
                    )
                }
            })
        })
}
