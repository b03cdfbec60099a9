//! Fictional data for the demo, the tests and the reference store of the benchmarks. Every name,
//! address and number here is invented: names are common surnames and given names combined at
//! random, addresses are in the fictional 架空市, phone numbers start with 000.

use std::collections::BTreeMap;

use crate::case::{
    Decide, IntakeKind, NewAbuse, NewHearing, NewIntake, NewNote, NewSafetyCheck, Reporter, SafetyMethod,
    StatusChange, Subject, SupportDecision, Verdict,
};
use crate::code_table::Code;
use crate::error::{Error, Result};
use crate::ids::{ChildId, ProtectionId, SupportId, UnitId};
use crate::person::{Agency, Contact, Household, Member, MemberRef, Person, PersonName, Sex};
use crate::protection::{PlaceKind, ProtectionStep, StartProtection, WarrantOutcome};
use crate::service::{Actor, NewCase, NewChild, NewStaff, Service};
use crate::staff::{Login, Password, Role};
use crate::time::{DAY, Date, HOUR, Timestamp};

/// A small deterministic generator (SplitMix64): the same seed gives the same data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        #[expect(clippy::cast_possible_truncation, reason = "index below a slice length")]
        &items[self.below(items.len() as u64) as usize]
    }
    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Family names with their furigana; some in 異体字 so that search folding is exercised.
pub const FAMILY: &[(&str, &str)] = &[
    ("佐藤", "さとう"),
    ("鈴木", "すずき"),
    ("高橋", "たかはし"),
    ("髙橋", "たかはし"),
    ("田中", "たなか"),
    ("伊藤", "いとう"),
    ("渡辺", "わたなべ"),
    ("渡邊", "わたなべ"),
    ("山本", "やまもと"),
    ("中村", "なかむら"),
    ("小林", "こばやし"),
    ("加藤", "かとう"),
    ("吉田", "よしだ"),
    ("山田", "やまだ"),
    ("佐々木", "ささき"),
    ("山口", "やまぐち"),
    ("松本", "まつもと"),
    ("井上", "いのうえ"),
    ("木村", "きむら"),
    ("林", "はやし"),
    ("斎藤", "さいとう"),
    ("齋藤", "さいとう"),
    ("清水", "しみず"),
    ("山崎", "やまざき"),
    ("山﨑", "やまざき"),
    ("森", "もり"),
    ("池田", "いけだ"),
    ("橋本", "はしもと"),
    ("阿部", "あべ"),
    ("石川", "いしかわ"),
    ("前田", "まえだ"),
    ("藤田", "ふじた"),
    ("小川", "おがわ"),
    ("岡田", "おかだ"),
    ("長谷川", "はせがわ"),
    ("村上", "むらかみ"),
    ("近藤", "こんどう"),
    ("石井", "いしい"),
    ("坂本", "さかもと"),
    ("遠藤", "えんどう"),
    ("青木", "あおき"),
    ("藤井", "ふじい"),
    ("西村", "にしむら"),
    ("福田", "ふくだ"),
    ("太田", "おおた"),
    ("三浦", "みうら"),
    ("藤原", "ふじわら"),
    ("岡本", "おかもと"),
    ("松田", "まつだ"),
    ("中川", "なかがわ"),
    ("原田", "はらだ"),
    ("小野", "おの"),
    ("田村", "たむら"),
    ("竹内", "たけうち"),
    ("金子", "かねこ"),
    ("和田", "わだ"),
    ("中山", "なかやま"),
    ("石田", "いしだ"),
    ("上田", "うえだ"),
    ("森田", "もりた"),
    ("柴田", "しばた"),
    ("酒井", "さかい"),
    ("工藤", "くどう"),
    ("横山", "よこやま"),
    ("宮崎", "みやざき"),
    ("宮本", "みやもと"),
    ("内田", "うちだ"),
    ("高木", "たかぎ"),
    ("髙木", "たかぎ"),
    ("安藤", "あんどう"),
    ("濵田", "はまだ"),
    ("浜田", "はまだ"),
    ("櫻井", "さくらい"),
    ("桜井", "さくらい"),
    ("澤田", "さわだ"),
    ("廣瀬", "ひろせ"),
    ("嶋田", "しまだ"),
    ("島田", "しまだ"),
    ("國分", "こくぶん"),
    ("髙﨑", "たかさき"),
];

/// Children's given names, furigana and sex.
pub const GIVEN: &[(&str, &str, Sex)] = &[
    ("陽翔", "はると", Sex::Male),
    ("蓮", "れん", Sex::Male),
    ("湊", "みなと", Sex::Male),
    ("蒼", "あおい", Sex::Male),
    ("悠真", "ゆうま", Sex::Male),
    ("樹", "いつき", Sex::Male),
    ("大和", "やまと", Sex::Male),
    ("陽向", "ひなた", Sex::Male),
    ("結翔", "ゆいと", Sex::Male),
    ("朝陽", "あさひ", Sex::Male),
    ("颯真", "そうま", Sex::Male),
    ("律", "りつ", Sex::Male),
    ("翔太", "しょうた", Sex::Male),
    ("健太", "けんた", Sex::Male),
    ("翼", "つばさ", Sex::Male),
    ("陽葵", "ひまり", Sex::Female),
    ("凛", "りん", Sex::Female),
    ("芽依", "めい", Sex::Female),
    ("葵", "あおい", Sex::Female),
    ("紬", "つむぎ", Sex::Female),
    ("結菜", "ゆいな", Sex::Female),
    ("杏", "あん", Sex::Female),
    ("莉子", "りこ", Sex::Female),
    ("美桜", "みお", Sex::Female),
    ("結愛", "ゆあ", Sex::Female),
    ("澪", "みお", Sex::Female),
    ("さくら", "さくら", Sex::Female),
    ("心春", "こはる", Sex::Female),
    ("陽菜", "ひな", Sex::Female),
    ("美咲", "みさき", Sex::Female),
];

const ADULT_MALE: &[(&str, &str)] =
    &[("健一", "けんいち"), ("大輔", "だいすけ"), ("拓也", "たくや"), ("直樹", "なおき"), ("誠", "まこと")];
const ADULT_FEMALE: &[(&str, &str)] =
    &[("裕子", "ゆうこ"), ("恵美", "えみ"), ("真由美", "まゆみ"), ("智子", "ともこ"), ("麻衣", "まい")];
const TOWNS: &[&str] = &["みどり町", "さくら台", "ひかり野", "あおば町", "かすみ丘", "すずらん通"];

const NOTE_TEXTS: &[&str] = &[
    "家庭訪問。母と面談し、児の生活状況を確認した。室内は片付いており、食事も取れている様子。",
    "学校より電話。本日も遅刻あり。担任が声掛けを継続するとのこと。",
    "来所面接。父は養育の負担を訴える。育児支援サービスの利用を案内した。",
    "保健センターと情報共有。乳幼児健診は未受診。受診勧奨を依頼した。",
    "一時保護所での様子：食欲あり、日中は落ち着いて過ごしている。",
    "要対協個別ケース検討会議にて見守り体制を確認した。",
];

/// The fictional address of household `n`.
#[must_use]
pub fn address(rng: &mut Rng) -> String {
    format!("架空市{}{}丁目{}番{}号", rng.pick(TOWNS), 1 + rng.below(5), 1 + rng.below(20), 1 + rng.below(30))
}

/// A fictional phone number (000 prefix: never a real line).
#[must_use]
pub fn phone(rng: &mut Rng) -> String {
    format!("000-{:04}-{:04}", rng.below(10_000), rng.below(10_000))
}

/// A child's name in a given family.
pub fn child_name(rng: &mut Rng, family: (&str, &str)) -> Result<(PersonName, Sex)> {
    let (given, kana, sex) = rng.pick(GIVEN);
    Ok((PersonName::new(family.0, given, family.1, kana)?, *sex))
}

/// The demo staff: one of each role in the 児童相談所, and two in the municipal unit.
pub const DEMO_STAFF: &[(&str, &str, Role, usize)] = &[
    ("demo-sv", "佐野 スーパーバイザー", Role::Supervisor, 0),
    ("demo-cw1", "木下 福祉司", Role::Caseworker, 0),
    ("demo-cw2", "大森 福祉司", Role::Caseworker, 0),
    ("demo-psy", "水野 心理司", Role::Psychologist, 0),
    ("demo-head", "北川 所長", Role::Head, 0),
    ("demo-clerk", "南 事務", Role::Clerk, 0),
    ("demo-city-sv", "東 係長", Role::Supervisor, 1),
    ("demo-city-cw", "西田 相談員", Role::Caseworker, 1),
];

/// The demo password, shared by every demo account (loopback only).
pub const DEMO_PASSWORD: &str = "mamoru-demo";

/// Creates the demo staff and lets the 児童相談所 read the municipal unit's records. Returns the
/// actors by login.
pub fn demo_staff(service: &Service, admin: &Actor) -> Result<BTreeMap<String, Actor>> {
    let units = service.units()?;
    let unit_ids: Vec<UnitId> = units.iter().map(|u| UnitId(u.id)).collect();
    let password = Password::new(DEMO_PASSWORD)?;
    let mut out = BTreeMap::new();
    for (login, name, role, unit) in DEMO_STAFF {
        let unit = *unit_ids.get(*unit).ok_or_else(|| Error::Corrupt("demo unit missing".into()))?;
        let login = Login::parse(login)?;
        let id = service.add_staff(
            admin,
            NewStaff { login: login.clone(), display_name: (*name).into(), role: *role, units: vec![unit] },
            &password,
        )?;
        out.insert(
            login.to_string(),
            Actor {
                staff: id,
                login,
                display_name: (*name).into(),
                role: *role,
                units: vec![unit],
                device: Some("demo".into()),
            },
        );
    }
    if let [centre, municipal, ..] = unit_ids.as_slice() {
        service.set_unit_policy(admin, *centre, vec![*municipal])?;
    }
    if let Some(clerk) = out.get("demo-clerk") {
        for (name, kind, phone) in [
            ("架空市立みどり小学校", "01", "000-0000-1001"),
            ("架空市ひかり保育園", "02", "000-0000-1002"),
            ("架空警察署 生活安全課", "03", "000-0000-1003"),
            ("架空市保健センター", "05", "000-0000-1005"),
        ] {
            service.add_agency(
                clerk,
                Agency {
                    name: name.into(),
                    kind: Code::new(kind),
                    address: "架空市".into(),
                    contacts: vec![Contact {
                        name: "代表".into(),
                        role: String::new(),
                        phone: phone.into(),
                        email: String::new(),
                    }],
                },
            )?;
        }
    }
    Ok(out)
}

/// What `populate` made.
#[derive(Debug, Default, Clone, Copy)]
pub struct Made {
    pub children: u64,
    pub cases: u64,
    pub notes: u64,
}

/// Fills the store with `children` fictional children in realistic states relative to `now`:
/// reports inside and past their 48 hours, protections near their 7-day and 2-month limits,
/// consultations, closed cases, siblings sharing a household. `notes_per_case` bounds the notes;
/// `active_percent` of the children get a current story, the rest a closed case from the past ten
/// years (a store that has run for a decade is mostly history).
pub fn populate(
    service: &Service,
    staff: &BTreeMap<String, Actor>,
    seed: u64,
    children: u64,
    notes_per_case: u64,
    active_percent: u64,
) -> Result<Made> {
    let get = |l: &str| staff.get(l).cloned().ok_or_else(|| Error::not_found("demo staff", l));
    let (cw1, cw2, sv) = (get("demo-cw1")?, get("demo-cw2")?, get("demo-sv")?);
    let (city_cw, city_sv) = (get("demo-city-cw")?, get("demo-city-sv")?);
    let now = service.now();
    let today = now.jst_date();
    let mut rng = Rng::new(seed);
    let mut made = Made::default();
    while made.children < children {
        let city = rng.chance(30);
        let worker = if city {
            &city_cw
        } else if rng.chance(50) {
            &cw1
        } else {
            &cw2
        };
        let supervisor = if city { &city_sv } else { &sv };
        let unit = worker.units[0];
        let family = *rng.pick(FAMILY);
        let home = address(&mut rng);
        let phone_no = phone(&mut rng);
        // Guardians.
        let mother = service.add_person(worker, adult(&mut rng, family, Sex::Female, unit, &home, today)?)?;
        let father = if rng.chance(60) {
            Some(service.add_person(worker, adult(&mut rng, family, Sex::Male, unit, &home, today)?)?)
        } else {
            None
        };
        let siblings = (1 + rng.below(3)).min(children - made.children);
        let mut members = vec![Member {
            who: MemberRef::Person(mother),
            relation: Code::new("02"),
            guardian: true,
            custody: true,
            cohabiting: true,
            ties: Vec::new(),
        }];
        if let Some(f) = father {
            let relation = if rng.chance(70) { "01" } else { "03" };
            members.push(Member {
                who: MemberRef::Person(f),
                relation: Code::new(relation),
                guardian: true,
                custody: relation == "01",
                cohabiting: true,
                ties: Vec::new(),
            });
        }
        let mut kids = Vec::new();
        for _ in 0..siblings {
            let (name, sex) = child_name(&mut rng, family)?;
            let age_days = i64::try_from(rng.below(17 * 365)).unwrap_or(0) + 30;
            let id = service.register_child(
                worker,
                NewChild {
                    family: Vec::new(),
                    unit,
                    name,
                    birth_date: Some(today.plus_days(-age_days)),
                    unborn: false,
                    sex,
                    address: home.clone(),
                    phones: vec![phone_no.clone()],
                    affiliation: if age_days > 6 * 365 {
                        "架空市立みどり小学校".into()
                    } else {
                        "架空市ひかり保育園".into()
                    },
                },
            )?;
            members.push(Member {
                who: MemberRef::Child(id),
                relation: Code::new("09"),
                guardian: false,
                custody: false,
                cohabiting: true,
                ties: Vec::new(),
            });
            kids.push(id);
            made.children += 1;
        }
        service.create_household(
            worker,
            Household {
                unit,
                address: home.clone(),
                phones: vec![phone_no.clone()],
                public_assistance: rng.chance(15),
                members,
                notes: String::new(),
            },
        )?;
        for kid in kids {
            let story = if rng.chance(active_percent) { rng.below(100) } else { HISTORY };
            let cases = case_story(service, worker, supervisor, kid, story, &mut rng, now, notes_per_case)?;
            made.cases += cases.0;
            made.notes += cases.1;
        }
    }
    Ok(made)
}

fn adult(
    rng: &mut Rng,
    family: (&str, &str),
    sex: Sex,
    unit: UnitId,
    home: &str,
    today: Date,
) -> Result<Person> {
    let (given, kana) = *rng.pick(if sex == Sex::Male { ADULT_MALE } else { ADULT_FEMALE });
    let age_days = i64::try_from(20 * 365 + rng.below(25 * 365)).unwrap_or(0);
    Ok(Person {
        name: PersonName::new(family.0, given, family.1, kana)?,
        birth_date: Some(today.plus_days(-age_days)),
        sex,
        address: home.to_owned(),
        phones: Vec::new(),
        employment: String::new(),
        health: String::new(),
        unit,
    })
}

fn pick_code(rng: &mut Rng, codes: &[&str]) -> Code {
    Code::new(rng.pick::<&str>(codes))
}

/// The story of a case from the store's past: checked, supported, closed.
const HISTORY: u64 = 99;

/// One child's cases: which story is drawn decides the clocks the board will show.
#[expect(clippy::too_many_lines, reason = "one story per case, read top to bottom")]
#[expect(clippy::too_many_arguments, reason = "the story's cast and setting")]
fn case_story(
    service: &Service,
    worker: &Actor,
    supervisor: &Actor,
    child: ChildId,
    story: u64,
    rng: &mut Rng,
    now: Timestamp,
    notes_per_case: u64,
) -> Result<(u64, u64)> {
    let hours_ago = |rng: &mut Rng, lo: i64, hi: i64| {
        let span = u64::try_from(hi - lo).unwrap_or(1);
        now.plus(-(lo + i64::try_from(rng.below(span)).unwrap_or(0)) * HOUR)
    };
    let abuse = story < 60 || (story == HISTORY && rng.chance(40));
    let received_at = match story {
        0..=9 => hours_ago(rng, 1, 40), // report inside its 48 hours, not yet checked
        10..=14 => hours_ago(rng, 49, 96), // past 48 hours, not checked: overdue
        15..=19 => hours_ago(rng, 5 * 24, 6 * 24), // protection, warrant due soon
        20..=24 => hours_ago(rng, 50 * 24, 58 * 24), // protection near 2 months
        HISTORY => hours_ago(rng, 365 * 24, 10 * 365 * 24),
        _ => hours_ago(rng, 100, 3 * 365 * 24),
    };
    let unit = worker.units[0];
    let intake = NewIntake {
        kind: if abuse { IntakeKind::AbuseReport } else { IntakeKind::Consultation },
        received_at,
        route: pick_code(rng, &["02", "04", "08", "11", "13", "14"]),
        consultation_type: Code::new(if abuse {
            "11"
        } else {
            rng.pick::<&str>(&["20", "35", "36", "41", "51", "52", "54"])
        }),
        chief_complaint: if abuse {
            "児の身体にあざがあるとの通告".into()
        } else {
            "育児・発達についての相談".into()
        },
        content: "（架空の事例）".into(),
    };
    let abuse_details = if abuse {
        NewAbuse {
            types: vec![pick_code(rng, &["1", "2", "3"])],
            main_perpetrator: Some(pick_code(rng, &["1", "3", "2"])),
            ..NewAbuse::default()
        }
    } else {
        NewAbuse::default()
    };
    let reporter = abuse.then(|| Reporter {
        anonymous: rng.chance(30),
        name: "（匿名希望）".into(),
        relation: "近隣住民".into(),
        phone: String::new(),
        note: String::new(),
    });
    let assigned = vec![worker.staff];
    let mut case = service.open_case(
        worker,
        child,
        NewCase { unit, intake, abuse: abuse_details, reporter, assigned },
    )?;
    // A protection's case gets the supervisor as 副担当, as centres do with the serious ones.
    if (15..=24).contains(&story) {
        let with_sv = crate::case::Assign {
            main: Some(worker.staff),
            subs: vec![supervisor.staff],
            reason: "一時保護の事例のため".into(),
        };
        case = service.assign_case(supervisor, crate::ids::CaseId(case.id), case.rev, &with_sv)?;
    }
    let case_id = crate::ids::CaseId(case.id);
    let mut notes = 0;
    for i in 0..rng.below(notes_per_case + 1) {
        let at = Timestamp(received_at.0 + i64::try_from(i).unwrap_or(0) * 3 * HOUR + 3600).min(now);
        service.add_note(
            worker,
            case_id,
            NewNote {
                at,
                kind: pick_code(rng, &["1", "2", "3", "4"]),
                body: (*rng.pick(NOTE_TEXTS)).to_owned(),
                photos: vec![],
            },
        )?;
        notes += 1;
    }
    let checked = abuse && story >= 15;
    if checked {
        service.record_safety_check(
            worker,
            case_id,
            NewSafetyCheck {
                at: Some(received_at.plus(6 * HOUR).min(now)),
                method: Some(SafetyMethod::Sighted),
                seen_directly: true,
                place: "自宅".into(),
                child_state: "外傷なし。表情は明るい。".into(),
                ..NewSafetyCheck::default()
            },
        )?;
    }
    if (15..=24).contains(&story) {
        let started_at = received_at.plus(8 * HOUR).min(now);
        let consent = story >= 20 && rng.chance(50);
        let heard = rng.chance(60);
        let p = service.start_protection(
            worker,
            case_id,
            StartProtection {
                started_at,
                place_kind: Some(if rng.chance(70) { PlaceKind::Shelter } else { PlaceKind::Entrusted }),
                place: "架空市児童相談所 一時保護所".into(),
                reason: "安全確保のため".into(),
                guardian_consent: consent,
                hearing: heard.then(|| NewHearing {
                    at: started_at,
                    method: "面接".into(),
                    views: "おうちには今は帰りたくない。".into(),
                    not_possible_reason: None,
                }),
                hearing_after_urgency: !heard,
            },
        )?;
        if story >= 20 && !consent {
            let requested = started_at.plus(3 * DAY).min(now);
            let mut rev = p.rev;
            for step in [
                ProtectionStep::WarrantRequest { at: requested },
                ProtectionStep::WarrantDecision {
                    at: started_at.plus(4 * DAY).min(now).max(requested),
                    outcome: WarrantOutcome::Issued,
                },
            ] {
                rev = service.record_protection_step(worker, case_id, ProtectionId(p.id), rev, step)?.rev;
            }
        }
    }
    if story >= 60 && rng.chance(40) {
        let s = service.record_support(
            worker,
            case_id,
            SupportDecision {
                kind: Some(pick_code(rng, &["11", "12", "22"])),
                decided_on: Some(received_at.jst_date()),
                start: Some(received_at.jst_date()),
                review_on: Some(now.jst_date().plus_days(i64::try_from(rng.below(60)).unwrap_or(0) - 5)),
                end: None,
                facility: String::new(),
                hearing: None,
                notice_issued_on: None,
                note: String::new(),
            },
        )?;
        // The supervisor has signed off every other one and those of cases closed since; the
        // rest wait for 決裁.
        if s.id % 2 == 0 || story >= 75 {
            let approve = Decide { verdict: Verdict::Approved, comment: String::new() };
            service.decide_approval(
                supervisor,
                case_id,
                Subject::Support(SupportId(s.id)),
                s.rev,
                &approve,
            )?;
        }
    }
    if story >= 75 {
        service.change_case_status(
            supervisor,
            case_id,
            case.rev,
            &StatusChange::Close { reason: "助言指導により終結".into() },
        )?;
    }
    Ok((1, notes))
}
