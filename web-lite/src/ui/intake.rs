//! 新規受付: a consultation or an abuse report, about a child on file or a new one. Before a new
//! child is registered the page asks core for children who may be the same (same birth date and
//! similar furigana, or similar furigana when the birth date is unknown) and lets the person
//! choose one or confirm a new registration; nothing typed is lost on the way. The case and a new
//! child are stored in one transaction (`Service::take_intake`), sent again safely from a draft.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use mamoru_core::case::{IntakeKind, NewAbuse, NewIntake, Reporter};
use mamoru_core::code_table::Code;
use mamoru_core::ids::{ChildId, UnitId};
use mamoru_core::person::{PersonName, Sex};
use mamoru_core::service::{
    ChildSummary, IntakeChild, IntakeOutcome, IntakePageView, Joining, NewCase, NewChild, NewMember,
    SessionInfo, as_guardian,
};
use mamoru_core::{Error, Service, wareki};
use serde::Deserialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::views::{ChildForm, Chrome, MemberForm, ResultRow, SEXES, datetime, options};
use super::{
    FORM_LIMIT, Page, blocking, check_form, error_page, html, idempotency_key, message, redirect,
    same_origin, signed_in, text,
};

/// The intake form as typed (and as shown back after a question or a refusal).
#[derive(Clone, Debug, Default)]
pub(crate) struct IntakeForm {
    pub child: ChildForm,
    pub kind: String,
    pub received_at: String,
    pub route: String,
    pub consultation_type: String,
    pub chief_complaint: String,
    pub content: String,
    /// The `abuse_type` codes ticked.
    pub abuse: Vec<String>,
    pub perpetrator: String,
    pub anonymous: bool,
    pub reporter_name: String,
    pub reporter_relation: String,
    pub reporter_phone: String,
    pub unit: String,
    pub assign_me: bool,
    /// The guardian named with a new child (blank: none), as the family form holds one.
    pub guardian: MemberForm,
}

impl IntakeForm {
    fn from_form(form: &HashMap<String, String>) -> Self {
        let mut abuse: Vec<String> =
            form.keys().filter_map(|k| k.strip_prefix("abuse_")).map(str::to_owned).collect();
        abuse.sort();
        Self {
            child: ChildForm::from_form(form),
            guardian: guardian_form(form),
            kind: text(form, "kind"),
            received_at: text(form, "received_at"),
            route: text(form, "route"),
            consultation_type: text(form, "consultation_type"),
            chief_complaint: text(form, "chief_complaint"),
            content: text(form, "content"),
            abuse,
            perpetrator: text(form, "perpetrator"),
            anonymous: form.contains_key("anonymous"),
            reporter_name: text(form, "reporter_name"),
            reporter_relation: text(form, "reporter_relation"),
            reporter_phone: text(form, "reporter_phone"),
            unit: text(form, "unit"),
            assign_me: form.contains_key("assign_me"),
        }
    }

    /// The case this form asks for (`child` is filled in by core).
    fn case(&self, session: &SessionInfo) -> Result<NewCase, Error> {
        let actor = &session.actor;
        let kind = match self.kind.as_str() {
            "abuse_report" => IntakeKind::AbuseReport,
            "consultation" => IntakeKind::Consultation,
            _ => return Err(Error::invalid("kind", "選択してください")),
        };
        let unit = self
            .unit
            .parse::<u64>()
            .ok()
            .map(UnitId)
            // Only what the form offered: a unit of someone else's (a stale draft) is asked
            // again with the form kept; core refuses it too.
            .filter(|u| actor.units().contains(u))
            .ok_or_else(|| Error::invalid("unit", "選択してください"))?;
        let abuse = NewAbuse {
            types: self.abuse.iter().map(|c| Code::new(c)).collect(),
            main_perpetrator: Some(self.perpetrator.as_str()).filter(|p| !p.is_empty()).map(Code::new),
            ..NewAbuse::default()
        };
        let reporter = Reporter {
            anonymous: self.anonymous,
            name: self.reporter_name.clone(),
            relation: self.reporter_relation.clone(),
            phone: self.reporter_phone.clone(),
            note: String::new(),
        };
        Ok(NewCase {
            unit,
            intake: NewIntake {
                kind,
                received_at: wareki::read_datetime("received_at", &self.received_at)?,
                route: Code::new(&self.route),
                consultation_type: Code::new(&self.consultation_type),
                chief_complaint: self.chief_complaint.clone(),
                content: self.content.clone(),
            },
            abuse,
            reporter: Some(reporter),
            assigned: if self.assign_me { vec![actor.staff()] } else { Vec::new() },
        })
    }

    /// The guardian typed (none when every guardian field is blank), as core adds it.
    fn family(&self) -> Result<Vec<NewMember>, Error> {
        let g = &self.guardian;
        let typed = [&g.family, &g.given, &g.family_kana, &g.given_kana, &g.phones, &g.relation];
        Ok(if typed.iter().all(|f| f.is_empty()) {
            Vec::new()
        } else {
            vec![NewMember {
                who: Joining::Adult(Box::new(g.person().map_err(as_guardian)?)),
                standing: g
                    .standing()
                    .map_err(|_| Error::Incomplete { fields: vec!["guardian_relation"] })?,
                cohabiting: true,
            }]
        })
    }

    /// The new child this form describes, with the guardian named (when a name was typed).
    fn new_child(&self, unit: UnitId) -> Result<NewChild, Error> {
        let c = &self.child;
        Ok(NewChild {
            family: self.family()?,
            unit,
            name: PersonName::new(&c.family, &c.given, &c.family_kana, &c.given_kana)?,
            birth_date: Some(c.birth.as_str())
                .filter(|b| !b.is_empty())
                .map(|b| wareki::read_date("birth_date", b))
                .transpose()?,
            unborn: c.unborn,
            sex: Sex::parse(&c.sex)?,
            address: c.address.clone(),
            phones: Vec::new(),
            affiliation: c.affiliation.clone(),
        })
    }
}

/// The guardian's fields of the intake form (`guardian_*`): a 保護者 living with the child, of
/// the relation chosen.
fn guardian_form(form: &HashMap<String, String>) -> MemberForm {
    let field = |k: &str| text(form, &format!("guardian_{k}"));
    MemberForm {
        family: field("family"),
        given: field("given"),
        family_kana: field("family_kana"),
        given_kana: field("given_kana"),
        relation: field("relation"),
        phones: field("phone"),
        sex: "unknown".into(),
        guardian: true,
        cohabiting: true,
        ..MemberForm::default()
    }
}

#[derive(Template)]
#[template(path = "intake.html")]
pub(crate) struct IntakePage {
    pub chrome: Chrome,
    pub form: IntakeForm,
    /// The child the intake is about, when chosen (from their page or at the duplicate check).
    pub chosen: Option<ResultRow>,
    /// Children who may be the same as the new one: the person chooses.
    pub candidates: Vec<ResultRow>,
    pub routes: Vec<(String, String)>,
    pub types: Vec<(String, String)>,
    pub abuse_types: Vec<(String, String, bool)>,
    pub perpetrators: Vec<(String, String)>,
    pub sexes: Vec<(String, String)>,
    /// 続柄 for the guardian (本人 left out).
    pub relations: Vec<(String, String)>,
    pub units: Vec<(String, String)>,
    pub may_be_assigned: bool,
    pub message: Option<String>,
}

impl IntakePage {
    fn new(chrome: Chrome, cx: &IntakePageView, mut form: IntakeForm) -> Self {
        let today = cx.now.jst_date();
        let routes = options(&cx.code_tables, "route", today);
        let types = options(&cx.code_tables, "consultation_type", today);
        if form.received_at.is_empty() {
            form.received_at = datetime(cx.now);
        }
        if form.unit.is_empty() {
            form.unit = cx.units.first().map(|(id, _)| id.to_string()).unwrap_or_default();
        }
        let abuse_types = options(&cx.code_tables, "abuse_type", today)
            .into_iter()
            .map(|(code, label)| {
                let on = form.abuse.contains(&code);
                (code, label, on)
            })
            .collect();
        Self {
            chrome,
            chosen: cx.child.as_ref().map(|c| ResultRow::of(c, today)),
            candidates: Vec::new(),
            routes,
            types,
            abuse_types,
            perpetrators: options(&cx.code_tables, "perpetrator", today),
            sexes: SEXES.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect(),
            relations: options(&cx.code_tables, "relation", today)
                .into_iter()
                .filter(|(code, _)| code != mamoru_core::service::SELF_RELATION)
                .collect(),
            units: cx.units.iter().map(|(id, name)| (id.to_string(), name.clone())).collect(),
            may_be_assigned: cx.may_be_assigned,
            form,
            message: None,
        }
    }
}

#[derive(Deserialize)]
struct IntakeQuery {
    #[serde(default)]
    child: Option<u64>,
}

fn chrome(session: &SessionInfo) -> Chrome {
    Chrome::new(session, "新規受付", "intake")
}

pub(super) fn page(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("intake").and(warp::get()).and(warp::query::<IntakeQuery>()).and(signed_in(service)).then(
        |q: IntakeQuery, page: Page| async move {
            let (svc, session) = or_respond!(page);
            let s = session.clone();
            match blocking(move || svc.intake_page(&s.actor, q.child.map(ChildId))).await {
                Ok(cx) => {
                    // Nothing is assumed about a child not yet seen: sex unknown until someone says.
                    let mut form = IntakeForm { assign_me: true, ..IntakeForm::default() };
                    form.child.sex = "unknown".into();
                    html(&IntakePage::new(chrome(&session), &cx, form), StatusCode::OK)
                }
                Err(e) => error_page(&session, &e),
            }
        },
    )
}

pub(super) fn take(service: Arc<Service>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("intake")
        .and(warp::post())
        .and(same_origin())
        .and(warp::body::content_length_limit(FORM_LIMIT))
        .and(warp::body::form::<HashMap<String, String>>())
        .and(signed_in(service))
        .then(take_intake)
}

async fn take_intake(form: HashMap<String, String>, page: Page) -> Response {
    let (svc, session) = or_respond!(page);
    let typed = IntakeForm::from_form(&form);
    let child = form.get("child").and_then(|c| c.parse::<u64>().ok()).map(ChildId);
    let confirmed_new = form.contains_key("confirm_new");
    let (s, mine, svc2) = (session.clone(), typed.clone(), svc.clone());
    let result = blocking(move || {
        check_form(&s, &form)?;
        let case = mine.case(&s)?;
        let who = match child {
            Some(id) => IntakeChild::Existing(id, mine.family()?),
            None => IntakeChild::New(Box::new(mine.new_child(case.unit)?)),
        };
        svc2.take_intake(&s.actor, who, case, idempotency_key(&form).as_deref(), confirmed_new)
    })
    .await;
    match result {
        Ok(IntakeOutcome::Opened(case)) => redirect(&format!("/cases/{}?saved=intake", case.id)),
        Ok(IntakeOutcome::PossibleDuplicates(found)) => again(svc, session, child, typed, found, None).await,
        Err(e) if e.is_input() => again(svc, session, child, typed, Vec::new(), Some(e)).await,
        Err(e) => error_page(&session, &e),
    }
}

/// The intake form again as typed: with the children it may be (to choose one, or to confirm a
/// new one), or with why it was refused.
async fn again(
    svc: Arc<Service>,
    session: SessionInfo,
    child: Option<ChildId>,
    typed: IntakeForm,
    found: Vec<ChildSummary>,
    refused: Option<Error>,
) -> Response {
    let s = session.clone();
    match blocking(move || svc.intake_page(&s.actor, child)).await {
        Ok(cx) => {
            let mut page = IntakePage::new(chrome(&session), &cx, typed);
            let today = cx.now.jst_date();
            page.candidates = found.iter().map(|c| ResultRow::of(c, today)).collect();
            let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            if let Some(e) = &refused {
                page.message = Some(message(e));
                page.chrome.mark(e);
            }
            html(&page, status)
        }
        Err(other) => error_page(&session, &other),
    }
}
