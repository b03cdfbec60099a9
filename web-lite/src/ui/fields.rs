//! The fields core names when it refuses something, as the page names them: one table of
//! [`Field`]s, each with the name core uses, its Japanese label and, for the refusals core
//! explains in English (for the CLI), why in Japanese. A field core starts to name without a row
//! here fails `tests::every_field_core_names_has_a_label`, so that staff never read an English
//! field name.

/// One table: the variant, the names core uses for it, the label, and the Japanese reason shown
/// when core's own is in English (empty: the label alone says enough).
macro_rules! fields {
    ($($variant:ident [$($name:literal)|+] $label:literal $hint:literal,)*) => {
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

            /// Why core refused it, in Japanese, when core says it in English; may be empty.
            pub(crate) fn hint(self) -> &'static str {
                match self {
                    $(Field::$variant => $hint,)*
                }
            }
        }
    };
}

fields! {
    Body ["body"] "内容" "入力されていません",
    At ["at"] "日時" "未来の日時や、開始・前の手続きより前の日時は入力できません",
    Kind ["code" | "kind"] "種別" "",
    Method ["method"] "方法" "",
    Query ["q"] "検索語" "",
    SendKey ["idempotency_key"] "送信番号" "",
    Form ["form_key"] "フォーム" "",
    FamilyName ["family_name"] "氏" "入力されていません",
    FamilyKana ["family_name_kana"] "ふりがな（氏）" "ひらがなかカタカナで入力してください",
    GivenKana ["given_name_kana"] "ふりがな（名）" "ひらがなかカタカナで入力してください",
    BirthDate ["birth_date"] "生年月日" "未来の日付（出生前を除く）や25年より前の日付は登録できません",
    Sex ["sex"] "性別" "選択してください",
    Rev ["rev"] "版" "",
    Attachments ["attachments"] "写真" "この事案に送られていない写真か、枚数（20枚まで）を超えています",
    Photo ["photo"] "写真" "JPEG・PNG・WebP の画像で、10MB までです",
    Injuries ["injuries"] "けがの位置" "図の中に印をつけ、大きさは200cmまで、メモは500字までです",
    ReceivedAt ["received_at"] "受付日時" "未来の日時は入力できません",
    Unit ["unit" | "units"] "所属" "",
    Child ["child"] "児童" "",
    Assigned ["assigned" | "staff"] "担当者" "",
    Case ["case" | "cases"] "ケース" "終結したケースか、すでに一時保護中です",
    StartedAt ["started_at"] "開始日時" "未来の日時は入力できません",
    Extension ["extensions" | "until"] "延長" "延長は前の期間に続けて、2か月以内の日を満了日にしてください",
    Ended ["ended"] "解除" "開始より前の日時では解除できません",
    Reason ["reason"] "理由" "",
    Outcome ["outcome"] "結果" "",
    Warrant ["warrant"] "一時保護状" "この段階では記録できません（保護者の同意、請求・結果の順を確認してください）",
    Court ["court" | "approved_on"] "家庭裁判所の承認" "最新の延長に、記録できる家庭裁判所の申立て・承認がありません",
    Petition ["petitioned_on"] "家庭裁判所への申立日" "",
    Step ["step"] "操作" "解除済みの一時保護には記録できません",
    Hearing ["hearing"] "子どもの意見聴取" "子どもの意見か聴取できなかった理由を入力するか、緊急のため事後に聴取することを選んでください",
    Answers ["answers"] "回答" "",
    DecidedOn ["decided_on"] "決定日" "",
    ReviewOn ["review_on"] "見直し日" "決定日より前の日付は入力できません",
    End ["end"] "終了日" "開始日より前の日付は入力できません",
    Status ["status"] "状態" "ケースの状態が変わっています。ページを読み込み直してください",
    Protection ["protection"] "一時保護" "一時保護中は終結できません。先に一時保護を解除してください",
    Attendees ["attendees"] "出席者" "",
    PlaceKind ["place_kind"] "場所の種類" "",
    Place ["place"] "場所" "",
    Agency ["agency"] "確認した関係機関" "",
    ChildState ["child_state"] "子どもの様子" "",
    SeenDirectly ["seen_directly"] "直接目視" "目視を選んだときは「子どもを直接目視した」にチェックしてください",
    Confirm ["confirm"] "開始の確認" "",
    Notice ["notice"] "通知" "",
    // Named only by the console, the CLI or sign-in; labelled in case a page ever shows them.
    Login ["login"] "ログインID" "",
    Password ["password"] "パスワード" "",
    DisplayName ["display_name" | "name"] "氏名" "1文字以上40文字以内で入力してください",
    Key ["key"] "公開鍵" "Ed25519 か ECDSA の公開鍵を1行で貼り付けてください",
    Action ["action"] "操作" "",
    ValidUntil ["valid_until"] "有効期限" "",
    Unique ["unique"] "重複" "",
    Otpauth ["otpauth"] "認証アプリの設定" "",
    Data ["data" | "import" | "backup"] "データ" "",
}

/// A field core named as the page shows it: its label, or the name itself when the table lacks
/// it (which the test below keeps from happening).
pub(crate) fn label(name: &str) -> &str {
    Field::named(name).map_or(name, |f| f.label())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::Field;

    /// The field names written in `dir`'s Rust sources where errors are made.
    fn named_in(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                named_in(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for opening in ["invalid(\"", "Error::require(&[(\"", "Incomplete { fields: vec![\""] {
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
    fn a_label_and_a_reason_are_japanese() {
        for name in ["received_at", "seen_directly", "family_name_kana", "units"] {
            let f = Field::named(name).unwrap();
            assert!(!f.label().is_ascii());
            assert!(f.hint().is_empty() || !f.hint().is_ascii(), "{name}");
        }
        assert_eq!(super::label("no_such_field"), "no_such_field");
    }
}
