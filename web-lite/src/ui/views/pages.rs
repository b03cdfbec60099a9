//! The small pages: sign-in, tablet registration, second-factor enrolment, the error page,
//! home (the board) and search.

use std::collections::HashMap;

use askama::Template;
use mamoru_core::ids::StaffId;
use mamoru_core::service::{ChildSummary, HomeView, MessageItem, SessionInfo};
use mamoru_core::time::Date;

use super::{Chrome, ClockRow, birth, datetime, staff_name};

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub login: String,
    pub message: Option<String>,
    pub notice: Option<String>,
    /// This tablet's registration was revoked: the page wipes every draft kept in it (the
    /// server's `Clear-Site-Data` does too, where the browser honours it).
    pub wipe: bool,
}

#[derive(Template)]
#[template(path = "register.html")]
pub(crate) struct RegisterPage {
    pub code: String,
    pub message: Option<String>,
}

/// The second-factor enrolment: the secret as a QR code, as a key to type, and as a link for an
/// authenticator app on the tablet itself.
#[derive(Template)]
#[template(path = "totp.html")]
pub(crate) struct TotpPage {
    pub name: String,
    pub form_key: String,
    /// Drawn here from numbers only: safe to embed unescaped.
    pub qr: String,
    pub key: String,
    pub url: String,
    pub message: Option<String>,
}

impl TotpPage {
    pub fn new(session: &SessionInfo, url: &str, message: Option<String>) -> Self {
        Self {
            name: session.actor.display_name().to_owned(),
            form_key: session.form_key.clone(),
            qr: crate::ui::enrol::qr_svg(url).unwrap_or_default(),
            key: mamoru_core::totp::url_key(url).unwrap_or_default(),
            url: url.to_owned(),
            message,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub message: String,
}

/// The error page of a request whose session could not be looked up (the store cannot be read
/// now): no menu and no draft key, since whose page it is is not known; the tablet stays
/// signed in and its drafts wait.
#[derive(Template)]
#[template(path = "unavailable.html")]
pub(crate) struct UnavailablePage {
    pub heading: &'static str,
    pub message: String,
    /// Where もう一度試す leads: the page asked for.
    pub again: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub chrome: Chrome,
    pub unit: String,
    pub unit_id: u64,
    pub mine: bool,
    /// The units the reader may choose (shown when there is more than one).
    pub units: Vec<(u64, String)>,
    /// The unit's staff to filter by, and the one chosen (0: the whole unit).
    pub staff: Vec<(u64, String)>,
    pub worker: u64,
    pub clocks: Vec<ClockRow>,
    /// How many clocks there are in all, and how many of them are not drawn.
    pub clocks_total: usize,
    pub more: usize,
    /// This board with every clock drawn.
    pub all_href: String,
    pub messages: Vec<BoardMessage>,
}

impl HomePage {
    pub(crate) fn of(chrome: Chrome, v: &HomeView) -> Self {
        let reader = StaffId(chrome.staff);
        Self {
            chrome,
            unit: v.unit_name.clone(),
            unit_id: v.unit.0,
            mine: v.mine,
            units: v.units.iter().map(|(id, name)| (id.0, name.clone())).collect(),
            staff: v.unit_staff.iter().map(|(id, name)| (id.0, name.clone())).collect(),
            worker: v.worker.map_or(0, |w| w.0),
            clocks: v.clocks.iter().map(|i| ClockRow::of(i, v.now)).collect(),
            clocks_total: v.clocks_total,
            more: v.clocks_total.saturating_sub(v.clocks.len()),
            all_href: match v.worker {
                _ if v.mine => format!("/home?unit={}&mine=1&all=1", v.unit.0),
                Some(w) => format!("/home?unit={}&worker={}&all=1", v.unit.0, w.0),
                None => format!("/home?unit={}&all=1", v.unit.0),
            },
            messages: v.messages.iter().map(|m| BoardMessage::of(m, &v.staff_names, reader)).collect(),
        }
    }
}

/// A message from a case's thread, as the board lists it: the start of it, and where to read on.
pub(crate) struct BoardMessage {
    pub id: u64,
    /// The reader's own (never unread).
    pub mine: bool,
    pub case_id: u64,
    pub case_no: String,
    pub author: String,
    pub at: String,
    pub body: String,
}

impl BoardMessage {
    pub(crate) fn of(m: &MessageItem, names: &HashMap<StaffId, String>, reader: StaffId) -> Self {
        let body = &m.message.body.body;
        let mut short: String = body.chars().take(80).collect();
        if short.len() < body.len() {
            short.push('…');
        }
        Self {
            id: m.message.id,
            mine: m.message.body.author == reader,
            case_id: m.message.body.case.0,
            case_no: m.case_no.clone(),
            author: staff_name(names, m.message.body.author),
            at: datetime(m.message.body.at),
            body: short,
        }
    }
}

pub(crate) struct ResultRow {
    pub id: u64,
    pub name: String,
    pub kana: String,
    pub birth: String,
    pub sex: &'static str,
    /// The child's open cases (id, number), where core looked them up.
    pub open_cases: Vec<(u64, String)>,
}

impl ResultRow {
    pub(crate) fn of(s: &ChildSummary, today: Date) -> Self {
        Self {
            id: s.id.0,
            name: s.name.clone(),
            kana: s.kana.clone(),
            birth: birth(s.birth_date, today),
            sex: s.sex.label(),
            open_cases: s.open_cases.iter().flatten().map(|c| (c.id.0, c.case_no.clone())).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "search.html")]
pub(crate) struct SearchPage {
    pub chrome: Chrome,
    pub q: String,
    pub searched: bool,
    pub results: Vec<ResultRow>,
    pub message: Option<String>,
}
