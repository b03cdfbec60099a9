//! The family on the face sheet through the service: adults and siblings joining a child's
//! household, each standing to each child as recorded (half-siblings with one 実父 and one
//! 継父 in the same man), edits against revisions merged member by member, and search finding
//! a child by a parent's name, phone or address.

use mamoru_core::Error;
use mamoru_core::code_table::Code;
use mamoru_core::error::Why;
use mamoru_core::ids::ChildId;
use mamoru_core::person::{Household, MemberRef, Person, PersonEdit, PersonName, Sex, Standing};
use mamoru_core::service::{Actor, Joining, MemberEdit, NewChild, NewMember};
use mamoru_core::staff::Role;
use mamoru_core::store::Reader;
use mamoru_core::time::Date;

use crate::support::{World, world};

fn adult(family: &str, given: &str, family_kana: &str, given_kana: &str, sex: Sex) -> PersonEdit {
    PersonEdit {
        name: PersonName::new(family, given, family_kana, given_kana).unwrap(),
        birth_date: Some(Date::parse_iso("1990-05-05").unwrap()),
        sex,
        address: String::new(),
        phones: vec!["090-1111-2222".into()],
        employment: "会社員".into(),
        health: String::new(),
    }
}

fn stands(relation: &str, guardian: bool, custody: bool) -> Standing {
    Standing { relation: Code::new(relation), guardian, custody }
}

fn join(w: &World, cw: &Actor, child: ChildId, who: Joining, standing: Standing) -> Household {
    let new = NewMember { who, standing, cohabiting: true };
    w.svc.add_family_member(cw, child, new, None).unwrap().body
}

/// How each member stands to `child`, as its page shows it: (name, relation, guardian).
fn family_of(w: &World, cw: &Actor, child: ChildId) -> Vec<(String, String, bool)> {
    let view = w.svc.child(cw, child).unwrap();
    view.members.iter().map(|m| (m.name.clone(), m.relation_label.clone(), m.guardian)).collect()
}

#[test]
fn a_family_is_recorded_from_the_face_sheet_and_shared_by_siblings() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let hana = w.child(&cw, "架空", "花子", "かくう", "はなこ", "2018-04-01");
    let ren = w.child(&cw, "架空", "蓮", "かくう", "れん", "2020-06-01");
    assert!(w.svc.child(&cw, hana).unwrap().household.is_none());

    let mother = adult("架空", "美咲", "かくう", "みさき", Sex::Female);
    join(&w, &cw, hana, Joining::Adult(Box::new(mother)), stands("02", true, true));
    let partner = adult("仮名", "健太", "かめい", "けんた", Sex::Male);
    let h = join(&w, &cw, hana, Joining::Adult(Box::new(partner)), stands("01", true, false));
    let MemberRef::Person(partner_id) = h.members[2].who else { panic!("the partner is a person") };
    join(&w, &cw, hana, Joining::Child(ren), stands("09", false, false));
    let household = w.svc.child(&cw, hana).unwrap().household.unwrap();
    assert_eq!(w.svc.child(&cw, ren).unwrap().household.map(|h| h.id), Some(household.id), "one household");

    // The man is 花子's 実父 and, said on 蓮's page, 蓮's 継父: 花子's page keeps 実父.
    let edit = MemberEdit {
        who: MemberRef::Person(partner_id),
        household_rev: household.rev,
        person: None,
        standing: stands("03", true, false),
        cohabiting: true,
    };
    w.svc.edit_family_member(&cw, ren, edit).unwrap();
    let row = |name: &str, relation: &str, guardian: bool| (name.to_owned(), relation.to_owned(), guardian);
    assert_eq!(
        family_of(&w, &cw, hana),
        [
            row("架空 花子", "本人", false),
            row("架空 美咲", "実母", true),
            row("仮名 健太", "実父", true),
            row("架空 蓮", "きょうだい", false)
        ]
    );
    assert_eq!(
        family_of(&w, &cw, ren),
        [
            row("架空 花子", "きょうだい", false),
            row("架空 美咲", "実母", true),
            row("仮名 健太", "継父", true),
            row("架空 蓮", "本人", false)
        ]
    );
    assert_eq!(w.svc.child(&cw, hana).unwrap().household.unwrap().body.members.len(), 4);
}

#[test]
fn search_finds_a_child_by_a_parents_name_phone_or_address() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let hana = w.child(&cw, "架空", "花子", "かくう", "はなこ", "2018-04-01");
    let mut mother = adult("空野", "美咲", "そらの", "みさき", Sex::Female);
    mother.phones = vec!["080-9876-5432".into()];
    mother.address = "架空市みなと町3-4-5".into();
    join(&w, &cw, hana, Joining::Adult(Box::new(mother)), stands("02", true, true));
    let ids = |q: &str| w.svc.search(&cw, q, 10).unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>();
    for q in ["空野美咲", "そらの", "ソラノ ミサキ", "08098765432", "みなと町3-4"] {
        assert_eq!(ids(q), [hana], "{q}");
    }
    // A name changed on the family form is found by the new name only.
    let view = w.svc.child(&cw, hana).unwrap();
    let who = view.members.iter().find(|m| m.name == "空野 美咲").unwrap().who;
    let member = w.svc.family_member(&cw, hana, who).unwrap();
    let person = member.person.unwrap();
    let mut renamed = PersonEdit::of(&person.body);
    renamed.name = PersonName::new("海野", "美咲", "うみの", "みさき").unwrap();
    let edit = MemberEdit {
        who,
        household_rev: member.household_rev,
        person: Some((person.rev, renamed)),
        standing: member.standing,
        cohabiting: true,
    };
    w.svc.edit_family_member(&cw, hana, edit).unwrap();
    assert_eq!(ids("うみの"), [hana]);
    assert!(ids("そらの").is_empty());
    // Taken out of the household, she no longer finds the child.
    let rev = w.svc.child(&cw, hana).unwrap().household.unwrap().rev;
    w.svc.remove_family_member(&cw, hana, who, rev).unwrap();
    assert!(ids("うみの").is_empty());
    assert_eq!(ids("はなこ"), [hana]);
}

#[test]
fn family_edits_refuse_what_would_lose_or_confuse() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let other = w.staff("other", Role::Caseworker, w.u2);
    let hana = w.child(&cw, "架空", "花子", "かくう", "はなこ", "2018-04-01");
    let ren = w.child(&cw, "架空", "蓮", "かくう", "れん", "2020-06-01");
    let sora = w.child(&cw, "架空", "空", "かくう", "そら", "2021-01-01");
    let add = |child, who, relation| {
        w.svc.add_family_member(
            &cw,
            child,
            NewMember { who, standing: stands(relation, false, false), cohabiting: true },
            None,
        )
    };
    let field = |e: Error| match e {
        Error::Invalid { field, reason } => (field, reason),
        other => panic!("expected a refused field, got {other:?}"),
    };
    // 本人 for someone else, an unknown code, the child itself, a future birth date.
    assert_eq!(
        field(
            add(hana, Joining::Adult(Box::new(adult("甲", "乙", "こう", "おつ", Sex::Male))), "10")
                .unwrap_err()
        ),
        ("relation", Why::NotTheChild)
    );
    assert_eq!(
        field(
            add(hana, Joining::Adult(Box::new(adult("甲", "乙", "こう", "おつ", Sex::Male))), "77")
                .unwrap_err()
        )
        .0,
        "relation"
    );
    assert_eq!(field(add(hana, Joining::Child(hana), "09").unwrap_err()), ("child", Why::TheChildItself));
    let mut unborn = adult("甲", "乙", "こう", "おつ", Sex::Male);
    unborn.birth_date = Some(Date::parse_iso("2099-01-01").unwrap());
    assert_eq!(
        field(add(hana, Joining::Adult(Box::new(unborn)), "01").unwrap_err()),
        ("birth_date", Why::InFuture)
    );
    assert!(w.svc.child(&cw, hana).unwrap().household.is_none(), "a refusal changes nothing");
    // A child in another household must leave it first.
    add(ren, Joining::Child(sora), "09").unwrap();
    assert_eq!(field(add(hana, Joining::Child(sora), "09").unwrap_err()), ("child", Why::OtherHousehold));
    // Another unit's worker may not change the family.
    let err = w.svc.add_family_member(
        &other,
        hana,
        NewMember { who: Joining::Child(ren), standing: stands("09", false, false), cohabiting: true },
        None,
    );
    assert!(matches!(err, Err(Error::Forbidden { .. })), "{err:?}");

    // Two people change the same member from one revision: the second is a conflict, not an
    // overwrite; a change to another member merges.
    let mother =
        add(hana, Joining::Adult(Box::new(adult("架空", "美咲", "かくう", "みさき", Sex::Female))), "02")
            .unwrap();
    let h = add(hana, Joining::Adult(Box::new(adult("架空", "祖母", "かくう", "そぼ", Sex::Female))), "08")
        .unwrap();
    let (m, g) = (mother.body.members[1].who, h.body.members[2].who);
    let edit = |who, relation: &str, rev| MemberEdit {
        who,
        household_rev: rev,
        person: None,
        standing: stands(relation, true, true),
        cohabiting: true,
    };
    w.svc.edit_family_member(&cw, hana, edit(m, "02", h.rev)).unwrap();
    let clash = w.svc.edit_family_member(&cw, hana, edit(m, "04", h.rev));
    assert!(matches!(clash, Err(Error::Conflict { .. })), "{clash:?}");
    let merged = w.svc.edit_family_member(&cw, hana, edit(g, "08", h.rev)).unwrap();
    let by = |who| merged.body.members.iter().find(|x| x.who == who).unwrap().clone();
    assert!(by(m).guardian && by(g).guardian, "both kept");
    // An adult added twice with one idempotency key is one person.
    let key = Some("fam-1");
    let new = || NewMember {
        who: Joining::Adult(Box::new(adult("架空", "叔父", "かくう", "おじ", Sex::Male))),
        standing: stands("99", false, false),
        cohabiting: false,
    };
    let once = w.svc.add_family_member(&cw, hana, new(), key).unwrap();
    let twice = w.svc.add_family_member(&cw, hana, new(), key).unwrap();
    assert_eq!(once.body.members.len(), twice.body.members.len());
    let persons = w.svc.store().read().unwrap().all::<Person>().unwrap();
    assert_eq!(persons.iter().filter(|p| p.body.name.given == "叔父").count(), 1);
}

#[test]
fn a_sibling_restricted_from_the_reader_is_neither_shown_nor_changed_and_ties_merge() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let other = w.staff("cw2", Role::Caseworker, w.u1);
    let sv = w.staff("sv", Role::Supervisor, w.u1);
    let hana = w.child(&cw, "架空", "花子", "かくう", "はなこ", "2018-04-01");
    let ren = w.child(&cw, "架空", "蓮", "かくう", "れん", "2020-06-01");
    let man = adult("仮名", "健太", "かめい", "けんた", Sex::Male);
    join(&w, &cw, hana, Joining::Adult(Box::new(man)), stands("01", true, false));
    let h = join(&w, &cw, hana, Joining::Child(ren), stands("09", false, false));
    let man = h.members[1].who;
    let rev = w.svc.child(&cw, hana).unwrap().household.unwrap().rev;

    // Set from each child's side at once: 実父 of 花子 stays, 継父 of 蓮 is added; both kept.
    let edit = |who, relation: &str| MemberEdit {
        who,
        household_rev: rev,
        person: None,
        standing: stands(relation, true, relation == "01"),
        cohabiting: true,
    };
    w.svc.edit_family_member(&cw, hana, edit(man, "01")).unwrap();
    w.svc.edit_family_member(&other, ren, edit(man, "03")).unwrap();
    let relation_of = |child| {
        let view = w.svc.child(&cw, child).unwrap();
        view.members.iter().find(|m| m.who == man).unwrap().relation_label.clone()
    };
    assert_eq!((relation_of(hana), relation_of(ren)), ("実父".to_owned(), "継父".to_owned()));

    // 蓮 restricted to the supervisor: the caseworker neither sees nor changes 蓮 from 花子's page.
    let case = w.case(&sv, ren, mamoru_core::case::IntakeKind::Consultation, crate::support::t0());
    w.svc.restrict_case(&sv, mamoru_core::ids::CaseId(case.id), case.rev, Some(vec![sv.staff()])).unwrap();
    let ren_ref = MemberRef::Child(ren);
    assert!(matches!(w.svc.family_member(&cw, hana, ren_ref), Err(Error::Forbidden { .. })));
    let rev = w.svc.child(&cw, hana).unwrap().household.unwrap().rev;
    let change = MemberEdit {
        who: ren_ref,
        household_rev: rev,
        person: None,
        standing: stands("99", false, false),
        cohabiting: false,
    };
    assert!(matches!(w.svc.edit_family_member(&cw, hana, change), Err(Error::Forbidden { .. })));
    assert!(w.svc.child(&cw, hana).unwrap().members.iter().all(|m| m.who != ren_ref), "not listed");

    // The man's name finds both children for the supervisor; once 蓮 leaves, only 花子.
    let ids = |q: &str| w.svc.search(&sv, q, 10).unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids("かめい"), [hana, ren]);
    let rev = w.svc.child(&sv, hana).unwrap().household.unwrap().rev;
    w.svc.remove_family_member(&sv, hana, ren_ref, rev).unwrap();
    assert_eq!(ids("かめい"), [hana]);
    let household = w.svc.child(&sv, hana).unwrap().household.unwrap().body;
    let ties: Vec<ChildId> = household.members.iter().flat_map(|m| m.ties.iter().map(|t| t.child)).collect();
    assert_eq!(ties, [hana], "no tie names the child who left");
}

/// A name or a text with a control character or a bidi override is refused, naming the field,
/// and nothing is stored: whichever command carries it (the store checks every record).
#[test]
fn control_characters_and_bidi_overrides_are_refused_in_names_and_texts() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    for (c, code) in [('\0', 0), ('\u{202E}', 0x202E), ('\u{1B}', 0x1B)] {
        let name = format!("架{c}空");
        match PersonName::new(&name, "陽", "かくう", "") {
            Err(Error::Invalid { field, reason }) => {
                assert_eq!((field, reason), ("family_name", Why::ControlCharacter(code)));
            }
            other => panic!("expected U+{code:04X} refused, got {other:?}"),
        }
    }
    // A text no name check sees: the address, refused by the store, named by its field.
    let mut new = crate::support::bare_child(w.u1, "架空", "陽", "かくう");
    new.address = "高崎市\u{202E}1-2-3".into();
    match w.svc.register_child(&cw, new) {
        Err(Error::Invalid { field, reason }) => {
            assert_eq!((field, reason), ("address", Why::ControlCharacter(0x202E)));
        }
        other => panic!("expected the address refused, got {other:?}"),
    }
    assert!(w.svc.search(&cw, "かくう", 10).unwrap().is_empty(), "nothing stored");
    // Line breaks and tabs are text.
    let mut fine = crate::support::bare_child(w.u1, "架空", "陽", "かくう");
    fine.address = "高崎市\n\t1-2-3".into();
    w.svc.register_child(&cw, fine).unwrap();
}

#[test]
fn a_guardian_named_with_a_new_child_is_recorded_with_it_or_refused_with_it() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let mut new = crate::support::bare_child(w.u1, "架空", "陽", "かくう");
    let mother = adult("架空", "凛", "かくう", "りん", Sex::Unknown);
    new.family = vec![NewMember {
        who: Joining::Adult(Box::new(mother.clone())),
        standing: stands("02", true, false),
        cohabiting: true,
    }];
    let mut bad = new.clone();
    let mut typo = mother;
    typo.name.family_kana = "kakuu".into();
    bad.family[0].who = Joining::Adult(Box::new(typo));
    match w.svc.register_child(&cw, bad) {
        Err(Error::Invalid { field, reason }) => {
            assert_eq!((field, reason), ("guardian_family_name_kana", Why::NotKana));
        }
        other => panic!("expected the guardian's furigana refused, got {other:?}"),
    }
    assert!(w.svc.search(&cw, "かくう", 10).unwrap().is_empty(), "nothing stored, not even the child");

    let child = w.svc.register_child(&cw, new).unwrap();
    let view = w.svc.child(&cw, child).unwrap();
    let mother = view.members.iter().find(|m| m.relation_label == "実母").unwrap();
    assert_eq!(
        (mother.name.as_str(), mother.sex, mother.guardian),
        ("架空 凛", Sex::Female, true),
        "the sex 実母 says"
    );
    assert_eq!(w.svc.search(&cw, "りん", 10).unwrap().into_iter().map(|s| s.id).collect::<Vec<_>>(), [child]);
}

#[test]
fn a_guardian_named_in_a_report_about_another_units_child_joins_with_the_new_case() {
    let w = world();
    let there = w.staff("there", Role::Caseworker, w.u2);
    let here = w.staff("here", Role::Caseworker, w.u1);
    let child = w.child(&there, "架空", "陽", "かくう", "ひなた", "2019-04-01");
    // The centre reads the city's children (its unit policy), so its intake may name one.
    w.svc.set_unit_policy(&w.admin, w.u1, vec![w.u2]).unwrap();
    let mother = adult("架空", "凛", "かくう", "りん", Sex::Unknown);
    let family = vec![NewMember {
        who: Joining::Adult(Box::new(mother)),
        standing: stands("02", true, false),
        cohabiting: true,
    }];
    let new = mamoru_core::case::NewCase {
        unit: w.u1,
        intake: crate::support::intake(mamoru_core::case::IntakeKind::AbuseReport, crate::support::t0()),
        abuse: mamoru_core::case::NewAbuse::default(),
        reporter: None,
        assigned: vec![],
    };
    let taken = w.svc.take_intake(
        &here,
        mamoru_core::service::IntakeChild::Existing(child, family),
        new,
        None,
        false,
    );
    assert!(matches!(taken, Ok(mamoru_core::service::IntakeOutcome::Opened(_))), "{taken:?}");
    let view = w.svc.child(&here, child).unwrap();
    assert!(
        view.members.iter().any(|m| m.relation_label == "実母" && m.sex == Sex::Female),
        "{:?}",
        view.members
    );
}

#[test]
fn a_child_registered_again_with_its_key_is_one_child_with_one_family() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let new = |given: &str| NewChild {
        unit: w.u1,
        name: PersonName::new("架空", given, "かくう", "はな").unwrap(),
        birth_date: Some(Date::parse_iso("2021-03-03").unwrap()),
        unborn: false,
        sex: Sex::Female,
        address: String::new(),
        phones: Vec::new(),
        affiliation: String::new(),
        family: vec![NewMember {
            who: Joining::Adult(Box::new(adult("架空", "母子", "かくう", "ははこ", Sex::Female))),
            standing: stands("02", true, true),
            cohabiting: true,
        }],
    };
    let once = w.svc.register_child_once(&cw, new("花"), Some("child-1")).unwrap();
    let twice = w.svc.register_child_once(&cw, new("花"), Some("child-1")).unwrap();
    assert_eq!(once, twice, "a retry answers with the child registered first");
    let persons = w.svc.store().read().unwrap().all::<Person>().unwrap();
    assert_eq!(persons.iter().filter(|p| p.body.name.given == "母子").count(), 1, "one mother");
    let other = w.svc.register_child_once(&cw, new("華"), Some("child-1"));
    assert!(matches!(other, Err(Error::Invalid { field: "idempotency_key", .. })), "{other:?}");
    // Without a key, each call registers (the duplicate check is the caller's question).
    let third = w.svc.register_child_once(&cw, new("花"), None).unwrap();
    assert_ne!(third, once);
}
