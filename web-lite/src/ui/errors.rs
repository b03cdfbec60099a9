//! Service errors as the person holding the tablet reads them: a Japanese sentence naming
//! the field, and the error page; the status a page is sent with is `crate::status_of`,
//! shared with the JSON API.

use mamoru_core::Error;
use mamoru_core::service::SessionInfo;
use warp::http::StatusCode;
use warp::reply::Response;

use super::fields;
use super::views::{Chrome, ErrorPage, UnavailablePage};
use super::{html, to_login};
pub(super) use crate::status_of;

/// A service error as a Japanese sentence for the person holding the tablet.
pub(crate) fn message(e: &Error) -> String {
    match e {
        Error::NotFound { .. } => "見つかりません。削除されたか、番号が違います。".into(),
        Error::Forbidden { .. } => "この操作の権限がありません。".into(),
        Error::Unauthenticated => "ログインし直してください。".into(),
        Error::BadCredentials => "ログインID、パスワード、または確認コードが正しくありません。".into(),
        Error::DeviceRequired => {
            "この端末は登録されていません。管理者から受け取った登録コードで、先に端末を登録してください。"
                .into()
        }
        Error::SecondFactorRequired => {
            "二段階認証の設定が必要です。認証アプリを登録してからお使いください。".into()
        }
        Error::TooManyAttempts { retry_after } => format!(
            "ログインに続けて失敗したため、しばらくログインできません。{}分ほど待ってからもう一度お試しください。",
            (retry_after + 59) / 60
        ),
        Error::Conflict { .. } => {
            "他の職員が先に更新しました。最新の内容を確認してから、もう一度保存してください。".into()
        }
        Error::Invalid { field, reason } => match fields::why(field, reason) {
            Some(why) => format!("「{}」を確認してください（{why}）。", fields::label(field)),
            None => format!("「{}」を確認してください。", fields::label(field)),
        },
        Error::Incomplete { fields } => {
            let named: Vec<String> = fields.iter().map(|f| format!("「{}」", fields::label(f))).collect();
            format!("{}を入力してください。", named.concat())
        }
        Error::Date(_) => {
            "日付・日時の形式が正しくありません（例: 令和7年4月1日、R7.4.1、2025-04-01）。".into()
        }
        Error::Unavailable(_) => {
            tracing::error!(error = %e, "a page request found the store unable to write");
            "サーバーの記録装置に書き込めないため、いまは保存も閲覧もできません（ディスクの空き不足または障害）。入力内容は消えていません。管理者が対応しています。しばらく待ってから、もう一度お試しください。"
                .into()
        }
        Error::AlreadyOpen { .. } | Error::Store(_) | Error::Corrupt(_) | Error::Io { .. } => {
            tracing::error!(error = %e, "a page request failed in the store");
            "サーバーで問題が起きました。入力内容は消えていません。時間をおいてもう一度保存してください。"
                .into()
        }
    }
}

pub(super) fn error_page(session: &SessionInfo, e: &Error) -> Response {
    if matches!(e, Error::Unauthenticated) {
        return to_login();
    }
    let status = status_of(e);
    let heading = heading(status);
    let page = ErrorPage { chrome: Chrome::new(session, heading, ""), heading, message: message(e) };
    with_retry(html(&page, status), e)
}

/// The error page of a request whose session lookup failed for something other than an ended
/// session (the store cannot be read now: a full disk). It does not sign the tablet out: the
/// person is told to wait, and `again` (the page asked for) is where もう一度試す leads.
pub(super) fn lookup_failed_page(e: &Error, again: &str) -> Response {
    let status = status_of(e);
    let heading = heading(status);
    // A path of this server only: browsers read `//` and `/\` as another host.
    let ours = again.starts_with('/') && !again.starts_with("//") && !again.contains('\\');
    let again = if ours { again } else { "/home" };
    with_retry(html(&UnavailablePage { heading, message: message(e), again: again.to_owned() }, status), e)
}

fn heading(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "見つかりません",
        StatusCode::FORBIDDEN => "権限がありません",
        StatusCode::CONFLICT => "更新が重なりました",
        StatusCode::UNPROCESSABLE_ENTITY => "入力を確認してください",
        StatusCode::SERVICE_UNAVAILABLE => "一時的に使えません",
        _ => "エラー",
    }
}

/// `Retry-After` on the answer to a store that cannot write now.
fn with_retry(mut r: Response, e: &Error) -> Response {
    if let Error::Unavailable(_) = e {
        r.headers_mut().insert(warp::http::header::RETRY_AFTER, crate::UNAVAILABLE_RETRY_AFTER.into());
    }
    r
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    /// The page's もう一度試す link for a lookup that failed on `asked`.
    async fn again(asked: &str) -> String {
        let r = lookup_failed_page(&Error::Corrupt("a store that cannot be read".into()), asked);
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let page = String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        assert!(page.contains("もう一度試す") && !page.contains("name=\"form_key\""), "{page}");
        page.split("href=\"").skip(1).find(|h| !h.starts_with("/assets/")).unwrap_or_default().to_owned()
    }

    #[tokio::test]
    async fn a_failed_lookup_retries_a_page_of_this_server_only() {
        assert!(again("/cases/7?tab=notes").await.starts_with("/cases/7?tab=notes\""));
        for elsewhere in ["//evil.example/", "/\\evil.example/", "https://evil.example/", ""] {
            let link = again(elsewhere).await;
            assert!(link.starts_with("/home\""), "{elsewhere}: {link}");
        }
    }
}
