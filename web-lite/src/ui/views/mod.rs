//! Typed views: one struct per page template (askama, compile-checked, HTML-escaped), built from
//! what the service returns. Formatting for people lives here: 和暦 dates, Japan time, labels.

mod case;
mod child;
mod conflict;
mod family;
mod genogram;
mod pages;

use std::collections::HashMap;

use mamoru_core::case::{CaseStatus, IntakeKind, SafetyMethod};
use mamoru_core::code_table::{Code, CodeTable};
use mamoru_core::deadline::ClockStatus;
use mamoru_core::ids::StaffId;
use mamoru_core::service::Versioned;
use mamoru_core::service::{BoardItem, SessionInfo};
use mamoru_core::staff::Action;
use mamoru_core::time::{Date, JST_OFFSET, Timestamp};
use mamoru_core::wareki;

pub(crate) use case::{CasePage, CheckForm, NoteForm, PhotoView};
pub(crate) use child::{ChildEditPage, ChildForm, ChildPage, NoteRow, SEXES, ThreadRow};
pub(crate) use conflict::ConflictView;
pub(crate) use family::{FamilyPage, MemberForm};
pub(crate) use pages::{
    ErrorPage, HomePage, LoginPage, RegisterPage, ResultRow, SearchPage, TotpPage, UnavailablePage,
};

/// What every signed-in page shows around its content.
pub(crate) struct Chrome {
    pub title: String,
    pub page: &'static str,
    pub user: String,
    pub role: &'static str,
    pub form_key: String,
    /// Whose page it is (a staff id): the script keeps each person's drafts apart on a shared
    /// tablet.
    pub staff: u64,
    /// The key the script keeps this person's drafts with on this tablet (`DraftKey`, hex): in
    /// the page only (`Cache-Control: no-store`), never in the browser's storage.
    pub vault: String,
    /// The case or child this page shows (0: none), so live events can refresh it.
    pub case_id: u64,
    pub child_id: u64,
    /// Which live events refresh this page: `board`, `case`, `child` or empty.
    pub live: &'static str,
    /// The part of the page to show after a save sent the person back here (an element id;
    /// empty: the top). The script scrolls to it, as a `#fragment` would: a form sent by the
    /// script follows the redirect itself, and a fetch's answer drops the fragment.
    pub scroll_to: String,
    /// The change-log position read before the page's data: the event stream starts there, so
    /// a change between drawing the page and connecting is not missed (0: from "now").
    pub after: u64,
    /// The menu: (path, label) of ホーム and each page the reader's role may use (検索,
    /// 新規受付, 担当ケース, 担当状況, 統計).
    pub menu: Vec<(&'static str, &'static str)>,
    /// The inputs a refusal named, space-separated (`Chrome::mark`): the script marks them in
    /// the form that was sent and brings the first into view with the reason beside it.
    pub invalid: String,
    /// Which of the forms that share the refused page's action was sent: its hidden inputs as
    /// `name=value`, space-separated (a protection's `step`, a 決裁's `subject` and `record`).
    pub sent: String,
    /// The planned stop to tell of (a week before it until it ends), as one sentence; empty:
    /// none.
    pub maintenance: String,
}

/// Every page of the menu, with the action it needs (`None`: everyone's).
const MENU: [(&str, &str, Option<Action>); 6] = [
    ("home", "ホーム", None),
    ("caseload", "担当ケース", Some(Action::ReadCaseload)),
    ("caseloads", "担当状況", Some(Action::AssignCases)),
    ("search", "検索", Some(Action::Search)),
    ("intake", "新規受付", Some(Action::OpenCase)),
    ("statistics", "統計", Some(Action::ReadStatistics)),
];

impl Chrome {
    pub(crate) fn new(session: &SessionInfo, title: impl Into<String>, page: &'static str) -> Self {
        Self {
            title: title.into(),
            page,
            user: session.actor.display_name().to_owned(),
            role: session.actor.role().label(),
            menu: MENU
                .iter()
                .filter(|(_, _, action)| action.is_none_or(|a| session.actor.may(a)))
                .map(|(page, label, _)| (*page, *label))
                .collect(),
            form_key: session.form_key.clone(),
            staff: session.actor.staff().0,
            vault: session.draft_key.to_hex(),
            case_id: 0,
            child_id: 0,
            live: "",
            scroll_to: String::new(),
            after: 0,
            invalid: String::new(),
            sent: String::new(),
            maintenance: session.maintenance.as_ref().map_or_else(String::new, |m| {
                format!(
                    "計画停止のお知らせ: {} から {} まで、システムを停止します（{}）。",
                    datetime(m.window.from),
                    datetime(m.window.to),
                    m.reason
                )
            }),
        }
    }

    /// Marks the fields `e` names (none for a refusal that names no field).
    pub(crate) fn mark(&mut self, e: &mamoru_core::Error) {
        self.invalid = crate::ui::fields::inputs(e);
    }
}

/// `令和8年11月24日 10:30` (Japan time): how a time is shown and the value of a date-time input
/// (typed like a birth date, read by `wareki::read_datetime`).
pub(crate) fn datetime(at: Timestamp) -> String {
    let secs = (at.0 + JST_OFFSET).rem_euclid(86_400);
    format!("{} {:02}:{:02}", wareki::format(at.jst_date()), secs / 3600, secs % 3600 / 60)
}

/// `あと3時間12分` or `2時間5分超過`.
pub(crate) fn remaining(due: Timestamp, now: Timestamp) -> String {
    let left = due.0 - now.0;
    let span = |s: i64| {
        let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
        match (d, h) {
            (0, 0) => format!("{m}分"),
            (0, _) => format!("{h}時間{m}分"),
            _ => format!("{d}日{h}時間"),
        }
    };
    if left > 0 { format!("あと{}", span(left)) } else { format!("{}超過", span(-left)) }
}

fn birth(date: Option<Date>, today: Date) -> String {
    date.map_or_else(
        || "不明".to_owned(),
        |d| format!("{}（{}歳）", wareki::format(d), d.age_on(today).max(0)),
    )
}

pub(crate) fn label(tables: &[Versioned<CodeTable>], key: &str, code: &Code) -> String {
    tables
        .iter()
        .find(|t| t.body.key == key)
        .and_then(|t| t.body.label(code))
        .map_or_else(|| code.0.clone(), str::to_owned)
}

/// The entries of a code table valid today, for a `<select>`.
pub(crate) fn options(tables: &[Versioned<CodeTable>], key: &str, today: Date) -> Vec<(String, String)> {
    tables
        .iter()
        .find(|t| t.body.key == key)
        .map(|t| {
            t.body
                .entries
                .iter()
                .filter(|e| e.valid_on(today))
                .map(|e| (e.code.clone(), e.label.clone()))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn staff_name(names: &HashMap<StaffId, String>, id: StaffId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| format!("職員{}", id.0))
}

pub(crate) fn method_label(m: SafetyMethod) -> &'static str {
    match m {
        SafetyMethod::Sighted => "目視",
        SafetyMethod::Interview => "面接",
        SafetyMethod::ByAgency => "関係機関による確認",
    }
}

pub(crate) const METHODS: [(&str, &str); 3] =
    [("sighted", "目視"), ("interview", "面接"), ("by_agency", "関係機関による確認")];

fn status(s: CaseStatus) -> (&'static str, &'static str) {
    match s {
        CaseStatus::Open => ("対応中", "open"),
        CaseStatus::Closed => ("終結", "closed"),
    }
}

fn intake_kind(k: IntakeKind) -> &'static str {
    match k {
        IntakeKind::Consultation => "相談",
        IntakeKind::AbuseReport => "虐待通告",
    }
}

pub(crate) struct ClockRow {
    pub label: &'static str,
    pub case_no: String,
    pub child: String,
    /// The workers' names, joined.
    pub workers: String,
    pub case_id: u64,
    pub due: String,
    pub due_epoch: i64,
    pub remaining: String,
    pub class: &'static str,
}

impl ClockRow {
    pub(crate) fn of(item: &BoardItem, now: Timestamp) -> Self {
        Self {
            label: item.label,
            case_no: item.case_no.clone(),
            child: item.child_name.clone().unwrap_or_else(|| "（閲覧制限の児童）".to_owned()),
            workers: item.worker_names.join("・"),
            case_id: item.deadline.case.0,
            due: datetime(item.deadline.due),
            due_epoch: item.deadline.due.0,
            remaining: remaining(item.deadline.due, now),
            class: match item.status {
                ClockStatus::Overdue => "overdue",
                ClockStatus::DueSoon => "soon",
                ClockStatus::Ok => "ok",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_people_say_them() {
        let t = Timestamp::parse("2026-11-24T10:05").unwrap();
        assert_eq!(datetime(t), "令和8年11月24日 10:05");
        assert_eq!(wareki::parse_datetime(&datetime(t)), Ok(t), "what an input holds is read back");
        assert_eq!(remaining(t.plus(3 * 3600 + 12 * 60), t), "あと3時間12分");
        assert_eq!(remaining(t, t.plus(125 * 60)), "2時間5分超過");
        assert_eq!(remaining(t.plus(2 * 86_400 + 3600), t), "あと2日1時間");
        assert_eq!(remaining(t, t), "0分超過");
    }
}
