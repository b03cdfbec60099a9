//! Service errors as the person holding the tablet reads them: a Japanese sentence naming
//! the field, and the error page; the status a page is sent with is `crate::status_of`,
//! shared with the JSON API.

use mamoru_core::Error;
use mamoru_core::service::SessionInfo;
use warp::http::StatusCode;
use warp::reply::Response;

use super::views::{Chrome, ErrorPage};
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
        Error::Invalid { field, reason } => {
            // Core explains in English for the CLI; the page says it in Japanese.
            let why = if reason.is_ascii() { field_hint(field) } else { reason.as_str() };
            if why.is_empty() {
                format!("「{}」を確認してください。", field_label(field))
            } else {
                format!("「{}」を確認してください（{why}）。", field_label(field))
            }
        }
        Error::Incomplete { fields } => {
            let named: Vec<String> = fields.iter().map(|f| format!("「{}」", field_label(f))).collect();
            format!("{}を入力してください。", named.concat())
        }
        Error::Date(_) => {
            "日付・日時の形式が正しくありません（例: 令和7年4月1日、R7.4.1、2025-04-01）。".into()
        }
        Error::AlreadyOpen { .. } | Error::Store(_) | Error::Corrupt(_) | Error::Io { .. } => {
            tracing::error!(error = %e, "a page request failed in the store");
            "サーバーで問題が起きました。入力内容は消えていません。時間をおいてもう一度保存してください。"
                .into()
        }
    }
}

pub(super) fn field_label(field: &str) -> &str {
    match field {
        "body" => "内容",
        "at" => "日時",
        "code" | "kind" => "種別",
        "method" => "方法",
        "q" => "検索語",
        "idempotency_key" => "送信番号",
        "form_key" => "フォーム",
        "family_name" => "氏",
        "family_name_kana" => "ふりがな（氏）",
        "given_name_kana" => "ふりがな（名）",
        "birth_date" => "生年月日",
        "sex" => "性別",
        "rev" => "版",
        "attachments" | "photo" => "写真",
        "injuries" => "けがの位置",
        "received_at" => "受付日時",
        "unit" => "所属",
        "child" => "児童",
        "assigned" => "担当者",
        "case" | "cases" => "ケース",
        "started_at" => "開始日時",
        "extensions" | "until" => "延長",
        "ended" => "解除",
        "reason" => "理由",
        "outcome" => "結果",
        "warrant" => "一時保護状",
        "court" | "approved_on" => "家庭裁判所の承認",
        "step" => "操作",
        "hearing" => "子どもの意見聴取",
        "answers" => "回答",
        "decided_on" => "決定日",
        "review_on" => "見直し日",
        "end" => "終了日",
        "status" => "状態",
        "protection" => "一時保護",
        "attendees" => "出席者",
        "place_kind" => "場所の種類",
        "place" => "場所",
        "agency" => "確認した関係機関",
        "child_state" => "子どもの様子",
        "seen_directly" => "直接目視",
        "confirm" => "開始の確認",
        "notice" => "通知",
        "petitioned_on" => "家庭裁判所への申立日",
        other => other,
    }
}

/// A Japanese reason for a field core refused with an English one.
pub(super) fn field_hint(field: &str) -> &'static str {
    match field {
        "family_name" | "body" => "入力されていません",
        "family_name_kana" | "given_name_kana" => "ひらがなかカタカナで入力してください",
        "birth_date" => "未来の日付（出生前を除く）や25年より前の日付は登録できません",
        "sex" => "選択してください",
        "attachments" => "この事案に送られていない写真か、枚数（20枚まで）を超えています",
        "photo" => "JPEG・PNG・WebP の画像で、10MB までです",
        "injuries" => "図の中に印をつけ、大きさは200cmまで、メモは500字までです",
        "extensions" => "延長は前の期間に続けて、2か月以内の日を満了日にしてください",
        "case" => "終結したケースか、すでに一時保護中です",
        "ended" => "開始より前の日時では解除できません",
        "started_at" | "received_at" => "未来の日時は入力できません",
        "hearing" => {
            "子どもの意見か聴取できなかった理由を入力するか、緊急のため事後に聴取することを選んでください"
        }
        "step" => "解除済みの一時保護には記録できません",
        "seen_directly" => "目視を選んだときは「子どもを直接目視した」にチェックしてください",
        "warrant" => "この段階では記録できません（保護者の同意、請求・結果の順を確認してください）",
        "court" => "最新の延長に、記録できる家庭裁判所の申立て・承認がありません",
        "at" => "未来の日時や、開始・前の手続きより前の日時は入力できません",
        "protection" => "一時保護中は終結できません。先に一時保護を解除してください",
        "status" => "ケースの状態が変わっています。ページを読み込み直してください",
        "end" => "開始日より前の日付は入力できません",
        "review_on" => "決定日より前の日付は入力できません",
        _ => "",
    }
}

pub(super) fn error_page(session: &SessionInfo, e: &Error) -> Response {
    if matches!(e, Error::Unauthenticated) {
        return to_login();
    }
    let status = status_of(e);
    let heading = match status {
        StatusCode::NOT_FOUND => "見つかりません",
        StatusCode::FORBIDDEN => "権限がありません",
        StatusCode::CONFLICT => "更新が重なりました",
        StatusCode::UNPROCESSABLE_ENTITY => "入力を確認してください",
        _ => "エラー",
    };
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %e, "a page failed in the store");
    }
    html(&ErrorPage { chrome: Chrome::new(session, heading, ""), heading, message: message(e) }, status)
}
