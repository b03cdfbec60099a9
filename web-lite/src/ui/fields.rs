//! The fields core names when it refuses something, as the page names them: one table of
//! [`Field`]s, each with the name core uses and its Japanese label; and why core refused it
//! ([`Why`]), in Japanese. A field core starts to name without a row here fails
//! `tests::every_field_core_names_has_a_label`, so that staff never read an English field name.

use mamoru_core::Error;
use mamoru_core::error::{Counted, Point, StepRule, Why};

/// One table: the variant, the names core uses for it, and the label.
macro_rules! fields {
    ($($variant:ident [$($name:literal)|+] $label:literal,)*) => {
        /// A field core names in an error.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Field {
            $($variant,)*
        }

        impl Field {
            /// The field core calls `name`, if the page knows it.
            pub(crate) fn named(name: &str) -> Option<Field> {
                match name {
                    $($($name)|+ => Some(Field::$variant),)*
                    _ => None,
                }
            }

            /// What the page calls it.
            pub(crate) fn label(self) -> &'static str {
                match self {
                    $(Field::$variant => $label,)*
                }
            }
        }
    };
}

fields! {
    Body ["body"] "内容",
    At ["at"] "日時",
    Kind ["code" | "kind"] "種別",
    Method ["method"] "方法",
    Query ["q"] "検索語",
    SendKey ["idempotency_key"] "送信番号",
    Form ["form_key"] "フォーム",
    FamilyName ["family_name"] "氏",
    FamilyKana ["family_name_kana"] "ふりがな（氏）",
    GivenKana ["given_name_kana"] "ふりがな（名）",
    BirthDate ["birth_date"] "生年月日",
    Sex ["sex"] "性別",
    Rev ["rev"] "版",
    Attachments ["attachments"] "写真",
    Photo ["photo"] "写真",
    Injuries ["injuries"] "けがの位置",
    ReceivedAt ["received_at"] "受付日時",
    Unit ["unit" | "units"] "所属",
    Child ["child"] "児童",
    Assigned ["assigned" | "staff"] "担当者",
    Main ["main"] "主担当",
    Case ["case" | "cases"] "ケース",
    StartedAt ["started_at"] "開始日時",
    HearingAt ["hearing_at"] "聴取日時",
    NextReview ["next_review"] "次回の進行管理",
    Start ["start"] "開始日",
    NoticeIssuedOn ["notice_issued_on"] "決定通知書の交付日",
    Extension ["extensions" | "until"] "延長",
    Ended ["ended"] "解除",
    Reason ["reason"] "理由",
    Outcome ["outcome"] "結果",
    Warrant ["warrant"] "一時保護状",
    Court ["court" | "approved_on"] "家庭裁判所の承認",
    Petition ["petitioned_on"] "家庭裁判所への申立日",
    Step ["step"] "操作",
    Hearing ["hearing"] "子どもの意見聴取",
    Answers ["answers"] "回答",
    DecidedOn ["decided_on"] "決定日",
    ReviewOn ["review_on"] "見直し日",
    End ["end"] "終了日",
    Status ["status"] "状態",
    Approval ["approval"] "決裁",
    Comment ["comment"] "決裁のコメント",
    Protection ["protection"] "一時保護",
    Attendees ["attendees"] "出席者",
    PlaceKind ["place_kind"] "場所の種類",
    Place ["place"] "場所",
    Agency ["agency"] "確認した関係機関",
    ChildState ["child_state"] "子どもの様子",
    SeenDirectly ["seen_directly"] "直接目視",
    Confirm ["confirm"] "開始の確認",
    Notice ["notice"] "通知",
    RestrictedTo ["restricted_to"] "閲覧できる職員",
    Relation ["relation"] "続柄",
    GuardianRelation ["guardian_relation"] "保護者の続柄",
    GuardianFamily ["guardian_family_name"] "保護者の氏",
    GuardianFamilyKana ["guardian_family_name_kana"] "保護者のふりがな（氏）",
    GuardianGivenKana ["guardian_given_name_kana"] "保護者のふりがな（名）",
    GuardianBirth ["guardian_birth_date"] "保護者の生年月日",
    Member ["who"] "家族",
    Address ["address"] "住所",
    Phones ["phones"] "電話",
    // Named only by the console, the CLI or sign-in; labelled in case a page ever shows them.
    Login ["login"] "ログインID",
    Password ["password"] "パスワード",
    DisplayName ["display_name" | "name"] "氏名",
    Key ["key"] "公開鍵",
    Action ["action"] "操作",
    ValidUntil ["valid_until"] "有効期限",
    // A form's new version (帳票様式), added by an administrator.
    ValidFrom ["valid_from"] "使用開始日",
    TemplateTitle ["title"] "様式の名前",
    Lead ["lead"] "前文",
    Rows ["rows"] "記載項目",
    Appeal ["appeal"] "教示",
    ApprovalColumns ["approvals"] "決裁欄",
    Unique ["unique"] "重複",
    Otpauth ["otpauth"] "認証アプリの設定",
    Data ["data" | "import" | "export" | "backup"] "データ",
    // 帳票: the form itself (a character its fonts lack, the reporter on a family's notice), and
    // the period of a 経過記録.
    Printed ["form"] "帳票",
    PeriodFrom ["from"] "期間（から）",
    Month ["month"] "対象月",
    Format ["format"] "形式",
    Maintenance ["maintenance"] "計画停止",
    PeriodTo ["to"] "期間（まで）",
    // 家庭裁判所への申立て.
    Grounds ["grounds"] "申立ての理由",
    Placement ["placement"] "承認を求める措置",
    Withhold ["withhold"] "非開示希望",
    FiledOn ["filed_on"] "申立日",
}

/// The form inputs that hold the fields `e` names, space-separated: core's name, or its last part
/// (`diagnoses.social` is the input `social`), or the inputs a field is typed into.
pub(crate) fn inputs(e: &Error) -> String {
    let named: Vec<&str> = match e {
        Error::Invalid { field, .. } => vec![*field],
        Error::Incomplete { fields } => fields.clone(),
        _ => Vec::new(),
    };
    let mut out: Vec<&str> = Vec::new();
    for name in named {
        let held: &[&str] = match name {
            "hearing" => &["hearing_at", "views", "not_possible", "hearing_after"],
            "assigned" => &["main"],
            "birth_date" => &["birth", "unborn"],
            "family_name" => &["family"],
            "family_name_kana" => &["family_kana"],
            "given_name_kana" => &["given_kana"],
            "guardian_family_name" => &["guardian_family"],
            "guardian_family_name_kana" => &["guardian_family_kana"],
            "guardian_given_name_kana" => &["guardian_given_kana"],
            "started_at" => &["at"],
            other => &[other.rsplit('.').next().unwrap_or(other)],
        };
        out.extend(held);
    }
    out.join(" ")
}

/// A field core named as the page shows it: its label, or the name itself when the table lacks
/// it (which the test below keeps from happening).
pub(crate) fn label(name: &str) -> &str {
    Field::named(name).map_or(name, |f| f.label())
}

/// Why core refused a field, in Japanese; `None` when the label alone must do (an English
/// reason for the CLI, which a page never shows).
pub(crate) fn why(field: &str, reason: &Why) -> Option<String> {
    Some(match reason {
        Why::Required => "入力されていません".into(),
        Why::InFuture => "未来の日時は入力できません".into(),
        Why::BornInFuture => "未来の日付は登録できません。出生前の子は「出生予定」にしてください".into(),
        Why::Before(point) => format!("{}より前の日時は入力できません", point_ja(*point)),
        Why::AtMost(max, Counted::Characters) => format!("{max}字までです"),
        Why::AtMost(max, Counted::MarkNote) => format!("印のメモは{max}字までです"),
        Why::AtMost(max, Counted::Photos) => format!("{max}枚までです"),
        Why::AtMost(max, Counted::Marks) => format!("印は{max}個までです"),
        Why::AtMost(max, Counted::CasePhotos) => {
            format!("1つのケースの写真は{max}枚までです。システム管理者に相談してください")
        }
        Why::AtMost(max, Counted::PhotosToday) => {
            format!("1日に送れる写真は{max}枚までです。明日また送るか、システム管理者に相談してください")
        }
        Why::YearsAgo(years) => format!("{years}年より前の日付は登録できません"),
        Why::NotKana => "ひらがなかカタカナで入力してください".into(),
        Why::ControlCharacter(c) => {
            format!("使えない文字（制御文字など U+{c:04X}）が含まれています。その文字を消してください")
        }
        Why::NotADate(said) => unreadable_date(said, false),
        Why::NotADateTime(said) => unreadable_date(said, true),
        Why::NotOneOf(_) => "選択肢から選んでください".into(),
        Why::NotSeenDirectly => "目視を選んだときは「子どもを直接目視した」にチェックしてください".into(),
        Why::NoViews => {
            "子どもの意見か聴取できなかった理由を入力するか、緊急のため事後に聴取することを選んでください"
                .into()
        }
        Why::NoCase => "ケースを選んでください".into(),
        Why::NotInUnit(_) => "ケースの所属で有効な職員を選んでください".into(),
        Why::NotAWorker(_) => "ケースを担当できる職種の職員を選んでください".into(),
        Why::NotSentForCase => "このケースに送られていない写真です".into(),
        Why::NotAnImage => "JPEG・PNG・WebP の画像にしてください（壊れた画像は送れません）".into(),
        Why::TooManyPixels => format!(
            "画像が大きすぎます。縦横{}画素・{}万画素までにしてください",
            mamoru_core::photo::MAX_SIDE,
            mamoru_core::photo::MAX_PIXELS / 10_000
        ),
        Why::LargerThan(mb) => format!("{mb}MBまでです"),
        Why::OffTheBodyMap => "図の中に印をつけてください".into(),
        Why::SizeOutOfRange => "大きさは0〜200cmで入力してください".into(),
        Why::Unanswered(q) => format!("質問 {q} が未回答です"),
        Why::NoSuchQuestion(q) => format!("この様式にない質問 {q} への回答です"),
        Why::OwnRequest => {
            "自分が伺った記録や自分が変更した記録は決裁できません。ほかのスーパーバイザーか所長が決裁します"
                .into()
        }
        Why::Decided => "すでに決裁または差戻しされています。ページを読み込み直してください".into(),
        Why::Pending => "終結伺いが決裁を待っています".into(),
        Why::NothingAsked => "決裁を求められていません。ページを読み込み直してください".into(),
        Why::CaseClosed => "ケースは終結しています".into(),
        Why::CaseOpen => "ケースは終結していません。ページを読み込み直してください".into(),
        Why::ProtectionInForce if field == "protection" => {
            "一時保護中は終結できません。先に一時保護を解除してください".into()
        }
        Why::ProtectionInForce => "すでに一時保護中です".into(),
        Why::ProtectionEnded => "解除済みの一時保護には記録できません".into(),
        Why::NoSuchDocument(_) => "このケースにない資料が選ばれています。画面を開き直してください".into(),
        Why::NoProtectionWithoutConsent => {
            "保護者の同意のない一時保護が継続中のケースでのみ申し立てられます".into()
        }
        Why::PetitionFiled => "家庭裁判所に提出済みの申立書は変更できません".into(),
        Why::StepNotOpen(rule) => step_ja(*rule).into(),
        Why::NoResume => "解除した一時保護は再開できません。新しく開始してください".into(),
        Why::NeedsTextOrPhoto => "内容を入力するか、写真を添付してください".into(),
        Why::FixedAtStart => "開始のときに決まる項目です。後の手続きとして記録してください".into(),
        Why::StepRecorded => "記録済みの手続きは変更・削除できません".into(),
        Why::ExtensionPeriod => "延長は前の期間に続けて、2か月以内の日を満了日にしてください".into(),
        Why::KeyFormat | Why::KeyReused(_) => "ページを読み込み直してから、もう一度送信してください".into(),
        Why::NoEnrolment => "二段階認証の登録が始まっていません。ログインし直してください".into(),
        Why::CodeMismatch => "確認コードが一致しません".into(),
        Why::OtherHousehold => "この児童は別の世帯に登録されています。先にその世帯から外してください".into(),
        Why::NotTheChild => "「本人」は児童本人だけです。この児童から見た続柄を選んでください".into(),
        Why::TheChildItself => "児童本人です。本人の情報はフェイスシートで編集してください".into(),
        Why::ReporterOnFamilyForm => "通告者は家族あての帳票には載せられません".into(),
        Why::Unprintable(ch) => {
            format!("{ch}は帳票の書体にない文字です。別の書き方にするか、手書きで補ってください")
        }
        // The page's own reasons are Japanese already; core's English ones are for the CLI.
        Why::Other(said) if !said.is_ascii() => said.clone(),
        Why::Other(_) => return None,
    })
}

/// Why core could not read a date (its English reason, `wareki`'s), in Japanese: what was wrong
/// where it knows, else how to write one.
fn unreadable_date(said: &str, with_time: bool) -> String {
    if let Some((era, day)) = said.split_once(" began on ") {
        return format!("{era}は{day}からです");
    }
    if let Some((era, day)) = said.split_once(" ended on ") {
        return format!("{era}は{day}までです");
    }
    let known = [
        ("four digits", "年は西暦4桁（2026）か元号（令和8年、R8）で入力してください"),
        ("before 明治", "明治（1868年）より前の日付は入力できません"),
        ("no such day", "その月にない日付です"),
        ("month must be", "月は1〜12で入力してください"),
        ("time of day", "時刻は0:00〜23:59で、10:30 や 10時30分 のように入力してください"),
    ];
    if let Some((_, ja)) = known.iter().find(|(en, _)| said.contains(en)) {
        return (*ja).to_owned();
    }
    if with_time {
        "令和8年4月1日 10:30、R8.4.1 10:30 のように日付と時刻を入力してください".into()
    } else {
        "令和8年4月1日、R8.4.1、2026-04-01 のように入力してください".into()
    }
}

fn point_ja(point: Point) -> &'static str {
    match point {
        Point::Start => "開始",
        Point::Decision => "決定日",
        Point::WarrantRequest => "一時保護状の請求",
        Point::Refusal => "却下",
        Point::Petition => "家庭裁判所への申立て",
    }
}

fn step_ja(rule: StepRule) -> &'static str {
    match rule {
        StepRule::HearingRecorded => "子どもの意見聴取はすでに記録されています",
        StepRule::WarrantOnce => "一時保護状の請求は、保護者の同意がないときに一度だけです",
        StepRule::NoWarrantWaiting => "結果を待っている一時保護状の請求がありません",
        StepRule::ChallengeOnce => "不服申立ては請求が却下された後に一度だけです",
        StepRule::NoPetitionToRecord => "最新の延長に、記録できる家庭裁判所への申立てがありません",
        StepRule::NoPetitionWaiting => "最新の延長に、承認を待つ家庭裁判所への申立てがありません",
        StepRule::NothingToNotice => "通知する内容がありません",
        StepRule::NotNow => "今は記録できません",
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_refusal_marks_the_inputs_that_hold_what_it_names() {
        use super::inputs;
        use mamoru_core::Error;
        // A dotted name (as a merge names a diagnosis) is held by the input of its last part.
        const DOTTED: &str = "diagnoses.social";
        assert_eq!(inputs(&Error::invalid(DOTTED, Why::Required)), "social");
        assert_eq!(inputs(&Error::Incomplete { fields: vec!["kind", "decided_on"] }), "kind decided_on");
        assert_eq!(
            inputs(&Error::invalid("hearing", Why::NoViews)),
            "hearing_at views not_possible hearing_after"
        );
        // Core's names for what a page's inputs call otherwise: each such input is on a page.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let pages: String = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        for name in [
            "birth_date",
            "family_name",
            "family_name_kana",
            "given_name_kana",
            "guardian_family_name",
            "guardian_family_name_kana",
            "guardian_given_name_kana",
            "started_at",
            "hearing",
            "assigned",
        ] {
            for input in inputs(&Error::invalid(name, Why::Required)).split(' ') {
                assert!(pages.contains(&format!("name=\"{input}\"")), "{name}: no input {input} on any page");
            }
        }
        assert_eq!(inputs(&Error::Forbidden { action: "approve" }), "");
    }

    use std::collections::BTreeSet;
    use std::path::Path;

    use mamoru_core::error::{Point, StepRule, Why};

    use super::Field;

    /// The field names written in `dir`'s Rust sources where errors are made.
    fn named_in(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                named_in(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for opening in [
                    "invalid(\"",
                    "Error::require(&[(\"",
                    "Incomplete { fields: vec![\"",
                    "read_date(\"",
                    "read_datetime(\"",
                    "date(form, \"",
                ] {
                    for (i, _) in text.match_indices(opening) {
                        let rest = &text[i + opening.len()..];
                        out.insert(rest[..rest.find('"').unwrap()].to_owned());
                    }
                }
                // The further fields of a multi-line `Error::require(&[…])`.
                for (i, _) in text.match_indices("Error::require(&[") {
                    let block = &text[i..i + text[i..].find("])").unwrap()];
                    for line in block.lines().skip(1) {
                        if let Some(name) = line.trim().strip_prefix("(\"").and_then(|l| l.split('"').next())
                        {
                            out.insert(name.to_owned());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_field_core_names_has_a_label() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut names = BTreeSet::new();
        named_in(&root.join("core/src"), &mut names);
        named_in(&root.join("web-lite/src"), &mut names);
        assert!(names.len() > 40 && names.contains("child_state"), "the scan finds core's fields: {names:?}");
        let missing: Vec<&String> = names.iter().filter(|n| Field::named(n).is_none()).collect();
        assert!(missing.is_empty(), "fields without a Japanese label in ui/fields.rs: {missing:?}");
    }

    #[test]
    fn a_date_core_cannot_read_is_answered_with_what_was_wrong() {
        use mamoru_core::Error;
        use mamoru_core::wareki::{read_date, read_datetime};
        let why = |e: Error| match e {
            Error::Invalid { field, reason } => super::why(field, &reason).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(why(read_date("birth_date", "R1.4.30").unwrap_err()), "令和は令和元年5月1日からです");
        assert_eq!(why(read_date("birth_date", "H32.1.1").unwrap_err()), "平成は平成31年4月30日までです");
        assert_eq!(why(read_date("birth_date", "R8.2.30").unwrap_err()), "その月にない日付です");
        assert!(why(read_date("birth_date", "8/11/24").unwrap_err()).contains("西暦4桁"));
        assert!(why(read_date("birth_date", "1800-01-01").unwrap_err()).contains("1868"));
        assert!(why(read_datetime("at", "R8.11.24 25:00").unwrap_err()).starts_with("時刻は"));
        assert!(why(read_datetime("at", "R8.11.24").unwrap_err()).contains("日付と時刻"));
        assert!(why(read_date("birth_date", "いつか").unwrap_err()).contains("R8.4.1"));
    }

    #[test]
    fn a_label_and_a_reason_are_japanese() {
        for name in ["received_at", "seen_directly", "family_name_kana", "units"] {
            assert!(!Field::named(name).unwrap().label().is_ascii(), "{name}");
        }
        assert_eq!(super::label("no_such_field"), "no_such_field");
        let typed = [Why::InFuture, Why::Before(Point::Petition), Why::StepNotOpen(StepRule::WarrantOnce)];
        for why in typed {
            assert!(!super::why("at", &why).unwrap().is_ascii(), "{why:?}");
        }
        // English for the CLI is not shown; a page's own Japanese is.
        assert_eq!(super::why("login", &Why::from("2-32 characters")), None);
        assert_eq!(super::why("rev", &Why::from("版がありません")).as_deref(), Some("版がありません"));
    }
}
