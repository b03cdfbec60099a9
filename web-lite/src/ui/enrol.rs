//! Enrolling the second factor: a staff member without one, where one is required, signs in to a
//! session that sees only this page (and logout) until an authenticator app's first code
//! confirms the secret shown here as a QR code.

use std::fmt::Write as _;
use std::sync::Arc;

use mamoru_core::error::Why;
use mamoru_core::{Error, Service};
use qrcodegen::{QrCode, QrCodeEcc};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::TotpPage;
use super::{TokenPage, blocking, error_page, html, redirect};

/// `GET /totp`: the secret being enrolled (a new one, or the one begun and not yet confirmed).
pub(super) fn page(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("totp").and(warp::get()).and(super::session_of_page(service, true)).then(
        |page: TokenPage| async move {
            let (svc, session, token) = or_respond!(page);
            let from = session.actor.address();
            match blocking(move || svc.totp_enrolment(&token, from, false)).await {
                Ok(url) => html(&TotpPage::new(&session, &url, None), StatusCode::OK),
                Err(e) => error_page(&session, &e),
            }
        },
    )
}

/// `POST /totp`: the first code from the app. A wrong one shows the same QR code again.
pub(super) fn confirm(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("totp").and(warp::post()).and(super::enrolling_form(service)).then(
        |posted: super::EnrollingForm| async move {
            let (svc, session, token, form) = or_respond!(posted);
            let code = form.get("code").map(|c| c.trim().to_owned()).unwrap_or_default();
            let from = session.actor.address();
            let result = blocking(move || match svc.confirm_enrolment(&token, from, &code) {
                Ok(_) => Ok(None),
                Err(e @ Error::Invalid { .. }) => svc.totp_enrolment(&token, from, false).map(|url| Some((url, e))),
                Err(e) => Err(e),
            })
            .await;
            match result {
                Ok(None) => redirect("/home"),
                Ok(Some((url, e))) => {
                    let why = match &e {
                        Error::Invalid { field, reason: reason @ Why::NoEnrolment } => {
                            super::fields::why(field, reason).unwrap_or_default()
                        }
                        _ => "確認コードが一致しません。アプリに今表示されている6桁を入力してください（この端末やスマートフォンの時刻がずれていると一致しません）。".to_owned(),
                    };
                    html(&TotpPage::new(&session, &url, Some(why)), StatusCode::UNPROCESSABLE_ENTITY)
                }
                Err(Error::Unauthenticated) => super::to_login(),
                Err(e) => error_page(&session, &e),
            }
        })
}

/// The QR code of `text` as an SVG drawing: one path of dark runs along each row, a quiet zone of
/// four modules. `None` if the text is too long for a QR code (an otpauth URL never is).
pub(super) fn qr_svg(text: &str) -> Option<String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let (size, border) = (qr.size(), 4);
    let whole = size + 2 * border;
    let mut path = String::new();
    for y in 0..size {
        let mut x = 0;
        while x < size {
            let run = (x..size).take_while(|&i| qr.get_module(i, y)).count();
            if run == 0 {
                x += 1;
                continue;
            }
            let _ = write!(path, "M{},{}h{run}v1h-{run}z", x + border, y + border);
            x += i32::try_from(run).unwrap_or(size);
        }
    }
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {whole} {whole}" shape-rendering="crispEdges" role="img" aria-label="QRコード"><rect width="{whole}" height="{whole}" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    ))
}

#[cfg(test)]
mod tests {
    use super::qr_svg;

    #[test]
    fn an_otpauth_url_draws_as_a_square_svg_with_a_quiet_zone() {
        let svg = qr_svg("otpauth://totp/Mamoru:cw?secret=JBSWY3DPEHPK3PXP&issuer=Mamoru").unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        // The top-left finder pattern: a run of seven dark modules just inside the quiet zone.
        assert!(svg.contains(r#"d="M4,4h7v1h-7z"#), "{svg}");
        assert!(qr_svg(&"x".repeat(5000)).is_none());
    }
}
