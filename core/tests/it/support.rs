//! A store in a temporary directory with a fixed clock, two units and helpers to fill it.

use std::sync::Arc;

use mamoru_core::case::{Case, IntakeKind, NewIntake, Reporter};
use mamoru_core::code_table::Code;
use mamoru_core::ids::{ChildId, StaffId, UnitId};
use mamoru_core::person::{PersonName, Sex};
use mamoru_core::service::{NewCase, NewChild, NewStaff};
use mamoru_core::staff::{Login, Password, Role};
use mamoru_core::store::{Store, Versioned};
use mamoru_core::time::{Date, FixedClock, Timestamp};
use mamoru_core::{Actor, Service};
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery";

pub struct World {
    pub dir: TempDir,
    pub svc: Service,
    pub clock: Arc<FixedClock>,
    pub admin: Actor,
    pub u1: UnitId,
    pub u2: UnitId,
}

/// 2025-06-02 10:00 JST, a Monday.
pub fn t0() -> Timestamp {
    Timestamp::parse("2025-06-02T10:00:00+09:00").unwrap()
}

pub fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(t0()));
    let store = Store::create(dir.path(), t0()).unwrap();
    let svc = Service::new(store, clock.clone());
    let login = Login::parse("admin").unwrap();
    let id = svc.bootstrap(&login, "管理者", &Password::new(PASSWORD).unwrap()).unwrap();
    let units: Vec<UnitId> = svc.units().unwrap().iter().map(|u| UnitId(u.id)).collect();
    let admin = svc.local_actor(id, "test").unwrap();
    World { dir, svc, clock, admin, u1: units[0], u2: units[1] }
}

/// The actor of a console sign-in that needed no code.
pub fn signed_in(step: mamoru_core::service::ConsoleStep) -> Actor {
    match step {
        mamoru_core::service::ConsoleStep::SignedIn(actor) => actor,
        mamoru_core::service::ConsoleStep::Code(_) => panic!("the console asked for a code"),
    }
}

impl World {
    pub fn staff(&self, login: &str, role: Role, unit: UnitId) -> Actor {
        let login = Login::parse(login).unwrap();
        let id: StaffId = self
            .svc
            .add_staff(
                &self.admin,
                NewStaff { login: login.clone(), display_name: login.to_string(), role, units: vec![unit] },
                &Password::new(PASSWORD).unwrap(),
            )
            .unwrap();
        self.svc.local_actor(id, "tablet-1").unwrap()
    }

    pub fn child(
        &self,
        actor: &Actor,
        family: &str,
        given: &str,
        fk: &str,
        gk: &str,
        birth: &str,
    ) -> ChildId {
        self.svc
            .register_child(
                actor,
                NewChild {
                    family: Vec::new(),
                    unit: actor.units()[0],
                    name: PersonName::new(family, given, fk, gk).unwrap(),
                    birth_date: Some(Date::parse_iso(birth).unwrap()),
                    unborn: false,
                    sex: Sex::Female,
                    address: "架空市みどり町1-2-3".into(),
                    phones: vec!["000-1234-5678".into()],
                    affiliation: String::new(),
                },
            )
            .unwrap()
    }

    pub fn case(
        &self,
        actor: &Actor,
        child: ChildId,
        kind: IntakeKind,
        received_at: Timestamp,
    ) -> Versioned<Case> {
        self.svc
            .open_case(
                actor,
                child,
                NewCase {
                    unit: actor.units()[0],
                    intake: intake(kind, received_at),
                    abuse: mamoru_core::case::NewAbuse::default(),
                    reporter: Some(Reporter {
                        anonymous: false,
                        name: "通告 太郎".into(),
                        relation: "近隣".into(),
                        phone: String::new(),
                        note: String::new(),
                    }),
                    assigned: vec![],
                },
            )
            .unwrap()
    }
}

pub fn intake(kind: IntakeKind, received_at: Timestamp) -> NewIntake {
    NewIntake {
        kind,
        received_at,
        route: Code::new("14"),
        consultation_type: Code::new(if kind == IntakeKind::AbuseReport { "11" } else { "54" }),
        chief_complaint: "テスト".into(),
        content: String::new(),
    }
}

/// A child with only a name, for tests that need many.
pub fn bare_child(unit: UnitId, family: &str, given: &str, kana: &str) -> NewChild {
    NewChild {
        family: Vec::new(),
        unit,
        name: PersonName::new(family, given, kana, "").unwrap(),
        birth_date: None,
        unborn: false,
        sex: Sex::Unknown,
        address: String::new(),
        phones: vec![],
        affiliation: String::new(),
    }
}

/// A 一時保護 started at `at` in urgency (the child's hearing follows), at the centre's shelter.
pub fn urgent_start(at: Timestamp, consent: bool) -> mamoru_core::protection::StartProtection {
    mamoru_core::protection::StartProtection {
        started_at: at,
        place_kind: Some(mamoru_core::protection::PlaceKind::Shelter),
        place: "一時保護所".into(),
        reason: "安全確保".into(),
        guardian_consent: consent,
        hearing: None,
        hearing_after_urgency: true,
    }
}
