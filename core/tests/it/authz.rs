//! The authorisation matrix: every role × every action × {own unit, other unit, restricted case,
//! nonexistent id}, with the expected outcome written out here independently of `Role::may`, and
//! an audit entry for every attempt.

use mamoru_core::case::StatusChange;
use mamoru_core::device::DeviceChange;
use mamoru_core::staff::StaffChange;
use std::collections::BTreeMap;

use mamoru_core::case::{
    Case, CaseEdit, IntakeKind, NewMeeting, NewNote, NewSafetyCheck, SafetyMethod, Support, SupportDecision,
};
use mamoru_core::code_table::Code;
use mamoru_core::ids::{CaseId, ChildId, NoteId, ProtectionId, SupportId, UnitId};
use mamoru_core::person::{Child, FaceSheetEdit};
use mamoru_core::protection::{NoticeKind, Protection, ProtectionStep};
use mamoru_core::service::AuditFilter;
use mamoru_core::staff::{Action, Role};
use mamoru_core::store::Reader;
use mamoru_core::{Actor, Error};

use crate::support::{World, t0, urgent_start, world};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Own,
    Other,
    Restricted,
    Missing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Authorised: the call succeeded or failed only on its input.
    Allowed,
    Forbidden,
    NotFound,
}

/// The ids an action is aimed at, for one target column.
#[derive(Clone, Debug)]
struct Ids {
    unit: UnitId,
    child: ChildId,
    case: CaseId,
    protection: ProtectionId,
    support: SupportId,
    login: String,
    code_table: &'static str,
    child_name: String,
    /// The agency to edit (none: add one).
    agency: Option<mamoru_core::ids::AgencyId>,
}

fn allowed_actions(role: Role) -> Vec<Action> {
    use Action as A;
    let caseworker = vec![
        A::ReadChild,
        A::Search,
        A::RegisterChild,
        A::EditChild,
        A::OpenCase,
        A::ReadCase,
        A::EditCase,
        A::AddNote,
        A::RecordSafetyCheck,
        A::RecordAssessment,
        A::RecordProtection,
        A::RecordSupport,
        A::RecordMeeting,
        A::ViewReporter,
        A::PrintForm,
        A::ReadBoard,
        A::ManageAgencies,
        A::ReadCaseload,
        A::AskClosure,
    ];
    match role {
        Role::Caseworker => caseworker,
        Role::Supervisor | Role::Head => {
            let mut v = caseworker;
            v.retain(|a| *a != A::AskClosure);
            v.extend([
                A::CloseCase,
                A::Approve,
                A::RestrictCase,
                A::AssignCases,
                A::ReadAudit,
                A::ExportAudit,
                A::ReadStatistics,
            ]);
            v
        }
        Role::Psychologist => {
            vec![
                A::ReadChild,
                A::Search,
                A::ReadCase,
                A::AddNote,
                A::RecordAssessment,
                A::RecordMeeting,
                A::PrintForm,
                A::ReadBoard,
            ]
        }
        Role::Clerk => {
            vec![
                A::ReadChild,
                A::Search,
                A::RegisterChild,
                A::OpenCase,
                A::ReadCase,
                A::PrintForm,
                A::ReadBoard,
                A::ManageAgencies,
                A::ReadStatistics,
            ]
        }
        Role::Admin => vec![
            A::ReadAudit,
            A::ExportAudit,
            A::ManageStaff,
            A::ManageDevices,
            A::EditCodeTables,
            A::Import,
            A::ExportStore,
            A::OperateServer,
            A::ReadStatistics,
        ],
    }
}

#[expect(clippy::match_same_arms, reason = "the table reads one rule per line")]
fn expected(role: Role, action: Action, target: Target) -> Outcome {
    use Action as A;
    if !allowed_actions(role).contains(&action) {
        return Outcome::Forbidden;
    }
    match (action, target) {
        // One's own caseload has no target.
        (A::ReadAudit | A::ExportAudit | A::Import | A::ExportStore | A::ReadCaseload, _) => Outcome::Allowed,
        // Agencies are shared by every unit: there is no other unit's agency.
        (A::ManageAgencies, Target::Missing) => Outcome::NotFound,
        (A::ManageAgencies, _) => Outcome::Allowed,
        (A::ManageStaff | A::ManageDevices | A::EditCodeTables | A::OperateServer, Target::Missing) => {
            Outcome::NotFound
        }
        (A::ManageStaff | A::ManageDevices | A::EditCodeTables | A::OperateServer, _) => Outcome::Allowed,
        // A search never reveals what the searcher may not see: it is simply not found.
        (A::Search, Target::Own) => Outcome::Allowed,
        (A::Search, _) => Outcome::NotFound,
        // Unit-level actions aimed at the own unit that holds a restricted case.
        (A::RegisterChild | A::ReadBoard | A::ReadStatistics, Target::Restricted) => Outcome::Allowed,
        (_, Target::Own) => Outcome::Allowed,
        (_, Target::Other | Target::Restricted) => Outcome::Forbidden,
        (_, Target::Missing) => Outcome::NotFound,
    }
}

fn classify(r: Result<(), Error>) -> Outcome {
    match r {
        Ok(()) | Err(Error::Invalid { .. } | Error::Incomplete { .. } | Error::Conflict { .. }) => {
            Outcome::Allowed
        }
        Err(Error::Forbidden { .. }) => Outcome::Forbidden,
        Err(Error::NotFound { .. }) => Outcome::NotFound,
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

fn rev<T: mamoru_core::store::Record>(w: &World, id: T::Id) -> u64 {
    w.svc.store().read().unwrap().get::<T>(id).unwrap().map_or(1, |v| v.rev)
}

fn body<T: mamoru_core::store::Record>(w: &World, id: T::Id, fallback: impl FnOnce() -> T) -> T {
    w.svc.store().read().unwrap().get::<T>(id).unwrap().map_or_else(fallback, |v| v.body)
}

#[expect(clippy::too_many_lines, reason = "one arm per action, each a real service call")]
fn perform(w: &World, actor: &Actor, action: Action, ids: &Ids, template: &Templates) -> Result<(), Error> {
    let svc = &w.svc;
    match action {
        Action::ReadChild => svc.child(actor, ids.child).map(drop),
        Action::Search => {
            let hits = svc.search(actor, &ids.child_name, 50)?;
            if hits.iter().any(|h| h.id == ids.child) {
                Ok(())
            } else {
                Err(Error::NotFound { what: "search hit", id: ids.child.to_string() })
            }
        }
        Action::RegisterChild => {
            svc.register_child(actor, crate::support::bare_child(ids.unit, "新規", "", "しんき")).map(drop)
        }
        Action::EditChild => {
            let b = body::<Child>(w, ids.child, || template.child.clone());
            svc.edit_child(actor, ids.child, rev::<Child>(w, ids.child), &FaceSheetEdit::of(&b)).map(drop)
        }
        Action::OpenCase => svc
            .open_case(
                actor,
                ids.child,
                mamoru_core::service::NewCase {
                    unit: ids.unit,
                    intake: crate::support::intake(IntakeKind::Consultation, t0()),
                    abuse: mamoru_core::case::NewAbuse::default(),
                    reporter: None,
                    assigned: vec![],
                },
            )
            .map(drop),
        Action::ReadCase => svc.case(actor, ids.case).map(drop),
        Action::EditCase => {
            let b = body::<Case>(w, ids.case, || template.case.clone());
            svc.edit_case(actor, ids.case, rev::<Case>(w, ids.case), &CaseEdit::of(&b)).map(drop)
        }
        // An empty reason: authorised callers get Incomplete, and nothing changes.
        Action::CloseCase => {
            let empty = StatusChange::Close { reason: String::new() };
            svc.change_case_status(actor, ids.case, rev::<Case>(w, ids.case), &empty).map(drop)
        }
        // An empty reason, and a closure nobody asked for: authorised callers are refused the
        // input, and nothing changes.
        Action::AskClosure => svc.ask_closure(actor, ids.case, rev::<Case>(w, ids.case), "").map(drop),
        Action::Approve => {
            let d = mamoru_core::case::Decide {
                verdict: mamoru_core::case::Verdict::Approved,
                comment: String::new(),
            };
            svc.decide_approval(
                actor,
                ids.case,
                mamoru_core::case::Subject::Closure,
                rev::<Case>(w, ids.case),
                &d,
            )
            .map(drop)
        }
        Action::RestrictCase => {
            let current = w.svc.store().read().unwrap().get::<Case>(ids.case).unwrap();
            let keep = current.and_then(|c| c.body.restricted_to);
            svc.restrict_case(actor, ids.case, rev::<Case>(w, ids.case), keep).map(drop)
        }
        Action::AddNote => svc
            .add_note(
                actor,
                ids.case,
                NewNote { at: t0(), kind: Code::new("3"), body: "電話連絡".into(), photos: vec![] },
            )
            .map(drop),
        Action::RecordSafetyCheck => svc
            .record_safety_check(
                actor,
                ids.case,
                NewSafetyCheck {
                    at: Some(t0()),
                    method: Some(SafetyMethod::ByAgency),
                    place: "学校".into(),
                    child_state: "登校している".into(),
                    ..NewSafetyCheck::default()
                },
            )
            .map(drop),
        Action::RecordAssessment => {
            let answers: BTreeMap<String, bool> = (1..=7).map(|i| (format!("q{i}"), false)).collect();
            svc.record_assessment(actor, ids.case, "protection_decision", answers).map(drop)
        }
        Action::RecordProtection => {
            let step = ProtectionStep::Notice { kind: NoticeKind::Start, at: t0() };
            let rev = rev::<Protection>(w, ids.protection);
            svc.record_protection_step(actor, ids.case, ids.protection, rev, step).map(drop)
        }
        Action::RecordSupport => {
            let b = body::<Support>(w, ids.support, || template.support.clone());
            let d = mamoru_core::case::SupportDecision::of(&b);
            svc.revise_support(actor, ids.case, ids.support, rev::<Support>(w, ids.support), d).map(drop)
        }
        Action::RecordMeeting => svc
            .record_meeting(
                actor,
                NewMeeting {
                    kind: Code::new("4"),
                    at: t0(),
                    attendees: vec![actor.staff()],
                    outside_attendees: vec![],
                    cases: vec![ids.case],
                    decisions: "継続指導".into(),
                },
            )
            .map(drop),
        Action::ViewReporter => svc.reporter(actor, ids.case).map(drop),
        Action::PrintForm => svc
            .print_form(
                actor,
                ids.case,
                mamoru_core::forms::FormKind::Notes,
                &mamoru_core::service::forms::FormOptions::default(),
            )
            .map(drop),
        Action::AssignCases => {
            let to = mamoru_core::case::Assign { main: Some(actor.staff()), ..Default::default() };
            svc.assign_case(actor, ids.case, rev::<Case>(w, ids.case), &to).map(drop)
        }
        Action::ReadCaseload => svc.my_caseload(actor).map(drop),
        Action::ReadBoard => svc.board(actor, ids.unit, None).map(drop),
        Action::ReadStatistics => {
            let year = mamoru_core::statistics::Span::new(
                mamoru_core::time::Date::new(2025, 4, 1).unwrap(),
                mamoru_core::time::Date::new(2026, 3, 31).unwrap(),
            )
            .unwrap();
            svc.statistics(actor, Some(ids.unit), year).map(drop)
        }
        Action::ReadAudit => svc.audit_log(actor, 1, 10).map(drop),
        Action::ExportAudit => svc.export_audit(actor, &AuditFilter::default(), &mut Vec::new()).map(drop),
        Action::ManageStaff => svc.change_staff(actor, &ids.login, &StaffChange::Enable),
        Action::EditCodeTables => {
            let r = w.svc.store().read().unwrap();
            let table = mamoru_core::Service::code_table(&r, ids.code_table)
                .or_else(|_| mamoru_core::Service::code_table(&r, "route"))
                .unwrap();
            svc.edit_code_table(actor, ids.code_table, table.rev, table.body)
        }
        Action::Import => svc.import(actor, |_| Ok(())),
        Action::ExportStore => {
            struct Nowhere;
            impl mamoru_core::service::export::Sink for Nowhere {
                fn create(&mut self, _: &str) -> std::io::Result<Box<dyn std::io::Write>> {
                    Ok(Box::new(std::io::sink()))
                }
            }
            svc.export_store(actor, &mut Nowhere).map(drop)
        }
        // Sessions are the server's: list them, or end one that does not exist.
        Action::OperateServer => match ids.agency {
            Some(_) => svc.end_session(actor, "0000000000000000"),
            None => svc.open_sessions(actor).map(drop),
        },
        // Devices are the city's, not a unit's: list them, or revoke one that does not exist.
        Action::ManageDevices => match ids.agency {
            Some(_) => {
                svc.change_device(actor, mamoru_core::ids::DeviceId(9999), DeviceChange::Revoke).map(drop)
            }
            None => svc.devices(actor).map(drop),
        },
        Action::ManageAgencies => {
            let agency = mamoru_core::person::Agency {
                name: "架空市立みどり小学校".into(),
                kind: Code::new("01"),
                address: String::new(),
                contacts: vec![],
            };
            match ids.agency {
                Some(id) => {
                    svc.edit_agency(actor, id, rev::<mamoru_core::person::Agency>(w, id), agency).map(drop)
                }
                None => svc.add_agency(actor, agency).map(drop),
            }
        }
    }
}

/// Bodies for edits aimed at records that do not exist.
struct Templates {
    child: Child,
    case: Case,
    support: Support,
}

/// Builds one case with a note, a protection and a support decision for `cw`'s unit.
fn make_case(
    w: &World,
    cw: &Actor,
    family: &str,
    kana: &str,
) -> (ChildId, CaseId, NoteId, ProtectionId, SupportId) {
    let child = w.child(cw, family, "花子", kana, "はなこ", "2016-05-05");
    let case = w.case(cw, child, IntakeKind::AbuseReport, t0().plus(-3600));
    let case_id = CaseId(case.id);
    let note = w
        .svc
        .add_note(
            cw,
            case_id,
            NewNote { at: t0(), kind: Code::new("1"), body: "訪問".into(), photos: vec![] },
        )
        .unwrap();
    let protection = w.svc.start_protection(cw, case_id, urgent_start(t0(), true)).unwrap();
    let support = w
        .svc
        .record_support(
            cw,
            case_id,
            SupportDecision {
                kind: Some(Code::new("12")),
                decided_on: Some(t0().jst_date()),
                start: None,
                review_on: None,
                end: None,
                facility: String::new(),
                hearing: None,
                notice_issued_on: None,
                note: String::new(),
            },
        )
        .unwrap();
    (child, case_id, NoteId(note.id), ProtectionId(protection.id), SupportId(support.id))
}

#[test]
fn every_role_every_action_every_scope() {
    let w = world();
    let cw1 = w.staff("maker1", Role::Caseworker, w.u1);
    let cw2 = w.staff("maker2", Role::Caseworker, w.u2);
    let named_cw = w.staff("named-cw", Role::Caseworker, w.u1);
    let named_sv = w.staff("named-sv", Role::Supervisor, w.u1);

    let own = make_case(&w, &cw1, "相川", "あいかわ");
    let other = make_case(&w, &cw2, "井口", "いぐち");
    let restricted = make_case(&w, &cw1, "宇野", "うの");
    let rc = w.svc.store().read().unwrap().require::<Case>(restricted.1).unwrap();
    w.svc.restrict_case(&named_sv, restricted.1, rc.rev, Some(vec![named_cw.staff()])).unwrap();

    let ids =
        |t: (ChildId, CaseId, NoteId, ProtectionId, SupportId), unit, login: &str, table, name: &str| Ids {
            unit,
            child: t.0,
            case: t.1,
            protection: t.3,
            support: t.4,
            login: login.to_owned(),
            code_table: table,
            child_name: name.to_owned(),
            agency: None,
        };
    let columns = [
        (Target::Own, ids(own, w.u1, "maker1", "route", "あいかわはなこ")),
        (Target::Other, ids(other, w.u2, "maker2", "relation", "いぐちはなこ")),
        (Target::Restricted, ids(restricted, w.u1, "named-cw", "note_kind", "うのはなこ")),
        (
            Target::Missing,
            Ids {
                unit: UnitId(99),
                child: ChildId(9999),
                case: CaseId(9999),
                protection: ProtectionId(9999),
                support: SupportId(9999),
                login: "nobody".into(),
                code_table: "no_such_table",
                child_name: "そんざいしない".into(),
                agency: Some(mamoru_core::ids::AgencyId(9999)),
            },
        ),
    ];
    let r = w.svc.store().read().unwrap();
    let templates = Templates {
        child: r.require::<Child>(own.0).unwrap().body,
        case: r.require::<Case>(own.1).unwrap().body,
        support: r.require::<Support>(own.4).unwrap().body,
    };
    drop(r);

    let mut failures = Vec::new();
    let mut checked = 0;
    for role in Role::ALL {
        let actor = w.staff(&format!("r-{}", role.as_str()), role, w.u1);
        for action in Action::ALL {
            for (target, ids) in &columns {
                let before = w.svc.store().read().unwrap().audit_len().unwrap();
                let got = classify(perform(&w, &actor, action, ids, &templates));
                let after = w.svc.store().read().unwrap().audit_len().unwrap();
                let want = expected(role, action, *target);
                if got != want {
                    failures.push(format!("{role:?} {action:?} {target:?}: expected {want:?}, got {got:?}"));
                }
                if after <= before {
                    failures.push(format!("{role:?} {action:?} {target:?}: not audited"));
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * Action::ALL.len() * 4);
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    // The named staff do see the restricted case; the audit chain is intact after all of it.
    assert!(w.svc.case(&named_cw, restricted.1).is_ok());
    assert!(w.svc.child(&named_sv, restricted.0).is_ok());
    assert!(matches!(w.svc.verify_audit().unwrap(), mamoru_core::audit::Verdict::Intact { .. }));
}

#[test]
fn a_unit_policy_opens_reading_but_never_writing() {
    let w = world();
    let city = w.staff("city-cw", Role::Caseworker, w.u2);
    let centre = w.staff("centre-cw", Role::Caseworker, w.u1);
    let (child, case, ..) = make_case(&w, &city, "遠藤", "えんどう");
    assert!(matches!(w.svc.child(&centre, child), Err(Error::Forbidden { .. })));
    w.svc.set_unit_policy(&w.admin, w.u1, vec![w.u2]).unwrap();
    assert!(w.svc.child(&centre, child).is_ok());
    assert!(w.svc.case(&centre, case).is_ok());
    assert_eq!(w.svc.search(&centre, "えんどう", 10).unwrap().len(), 1);
    // The reporter's identity never crosses units, whatever the policy.
    assert!(matches!(w.svc.reporter(&centre, case), Err(Error::Forbidden { .. })));
    let c = w.svc.store().read().unwrap().require::<Case>(case).unwrap();
    assert!(matches!(w.svc.update_case(&centre, case, c.rev, c.body), Err(Error::Forbidden { .. })));
    // The policy is one-way: the municipal side still cannot read the centre's children.
    let (centre_child, ..) = make_case(&w, &centre, "大木", "おおき");
    assert!(matches!(w.svc.child(&city, centre_child), Err(Error::Forbidden { .. })));
}

#[test]
fn the_reporter_is_shown_only_to_permitted_roles() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let psy = w.staff("psy", Role::Psychologist, w.u1);
    let clerk = w.staff("clerk", Role::Clerk, w.u1);
    let (_, case, ..) = make_case(&w, &cw, "北村", "きたむら");
    let rep = w.svc.reporter(&cw, case).unwrap().unwrap();
    assert_eq!(rep.name, "通告 太郎");
    for actor in [&psy, &clerk] {
        assert!(matches!(w.svc.reporter(actor, case), Err(Error::Forbidden { .. })));
        // Nor does the case page carry it.
        let view = serde_json::to_string(&w.svc.case(actor, case).unwrap()).unwrap();
        assert!(!view.contains("通告 太郎"));
    }
}

#[test]
fn lifting_one_case_restriction_keeps_the_child_protected_by_another() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let named = w.staff("named", Role::Caseworker, w.u1);
    let (child, first, ..) = make_case(&w, &cw, "江口", "えぐち");
    let second = w.case(&cw, child, IntakeKind::Consultation, t0());
    let rev = |id| w.svc.store().read().unwrap().require::<Case>(id).unwrap().rev;
    w.svc.restrict_case(&sv, first, rev(first), Some(vec![named.staff()])).unwrap();
    w.svc.restrict_case(&sv, CaseId(second.id), rev(CaseId(second.id)), Some(vec![named.staff()])).unwrap();
    w.svc.restrict_case(&sv, first, rev(first), None).unwrap();
    assert!(
        matches!(w.svc.child(&cw, child), Err(Error::Forbidden { .. })),
        "the second case still protects the child"
    );
    assert!(w.svc.child(&named, child).is_ok());
    // The lifted case's reporter stays shut with the child.
    assert!(matches!(w.svc.reporter(&cw, first), Err(Error::Forbidden { .. })));
    assert!(w.svc.reporter(&named, first).is_ok());
    // A new case on the protected child is protected too.
    let third = w.case(&named, child, IntakeKind::Consultation, t0());
    assert!(third.body.restricted_to.is_some());
    assert!(matches!(w.svc.case(&cw, CaseId(third.id)), Err(Error::Forbidden { .. })));
}
