//! `/api/v1/children/{id}/family`: the family on a child's face sheet. A member is named
//! `person-N` or `child-N`; adding an adult takes its details, adding a sibling on file its
//! child id; a change goes against the household's revision (and the person's), merged with
//! what was saved meanwhile or refused as a conflict. Each answers with the household.

use std::sync::Arc;

use mamoru_core::code_table::Code;
use mamoru_core::ids::ChildId;
use mamoru_core::person::{MemberRef, PersonEdit, PersonName, Sex, Standing};
use mamoru_core::service::{Joining, MemberEdit, NewMember, parse_member_key};
use mamoru_core::{Error, Service, wareki};
use serde::Deserialize;
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use super::{Authed, AuthedJson, authed_json, authenticated, json_ok, query, respond};
use crate::blocking;

/// An adult's details.
#[derive(Deserialize)]
pub(super) struct PersonIn {
    family_name: String,
    #[serde(default)]
    given_name: String,
    family_name_kana: String,
    #[serde(default)]
    given_name_kana: String,
    birth_date: Option<String>,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phones: Vec<String>,
    #[serde(default)]
    employment: String,
    #[serde(default)]
    health: String,
}

impl PersonIn {
    fn edit(self) -> Result<PersonEdit, Error> {
        Ok(PersonEdit {
            name: PersonName::new(
                &self.family_name,
                &self.given_name,
                &self.family_name_kana,
                &self.given_name_kana,
            )?,
            birth_date: self
                .birth_date
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|b| wareki::read_date("birth_date", b))
                .transpose()?,
            sex: Sex::parse(&self.sex)?,
            address: self.address,
            phones: self.phones,
            employment: self.employment,
            health: self.health,
        })
    }
}

/// How the member stands to the child.
#[derive(Deserialize)]
pub(super) struct StandingIn {
    relation: String,
    #[serde(default)]
    guardian: bool,
    #[serde(default)]
    custody: bool,
    #[serde(default = "yes")]
    cohabiting: bool,
}

fn yes() -> bool {
    true
}

impl StandingIn {
    fn standing(&self) -> Standing {
        Standing { relation: Code::new(self.relation.trim()), guardian: self.guardian, custody: self.custody }
    }
}

#[derive(Deserialize)]
pub(super) struct MemberIn {
    /// A new adult, or
    person: Option<PersonIn>,
    /// a child on file joining as a sibling.
    child: Option<u64>,
    #[serde(flatten)]
    standing: StandingIn,
    idempotency_key: Option<String>,
}

impl MemberIn {
    /// A member sent in a new child's `family`: the child's request is the one retried, so a
    /// key of the member's own is refused rather than ignored.
    pub(super) fn member_of_new_child(self) -> Result<NewMember, Error> {
        if self.idempotency_key.is_some() {
            return Err(Error::invalid(
                "idempotency_key",
                "not inside family: the intake's own idempotency_key covers its family",
            ));
        }
        self.member()
    }

    /// The member as core's command.
    pub(super) fn member(self) -> Result<NewMember, Error> {
        let who = match (self.person, self.child) {
            (Some(p), None) => Joining::Adult(Box::new(p.edit()?)),
            (None, Some(c)) => Joining::Child(ChildId(c)),
            _ => return Err(Error::invalid("who", "send either person or child")),
        };
        Ok(NewMember { who, standing: self.standing.standing(), cohabiting: self.standing.cohabiting })
    }
}

#[derive(Deserialize)]
pub(super) struct MemberChangeIn {
    household_rev: u64,
    /// The person's revision and details (adults; omit to change only the standing).
    person_rev: Option<u64>,
    person: Option<PersonIn>,
    #[serde(flatten)]
    standing: StandingIn,
}

#[derive(Deserialize)]
pub(super) struct RemoveQuery {
    household_rev: u64,
}

pub(super) fn routes(
    service: Arc<Service>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let add = warp::path!("api" / "v1" / "children" / u64 / "family")
        .and(warp::post())
        .and(authed_json::<MemberIn>(service.clone()))
        .then(|id: u64, input: AuthedJson<MemberIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result = blocking(move || {
                let key = input.idempotency_key.clone();
                svc.add_family_member(&session.actor, ChildId(id), input.member()?, key.as_deref())
            })
            .await;
            respond(result, |h| json_ok(StatusCode::CREATED, &h))
        });
    let get = warp::path!("api" / "v1" / "children" / u64 / "family" / String)
        .and(warp::get())
        .and(authenticated(service.clone()))
        .then(|id: u64, who: String, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let result =
                blocking(move || svc.family_member(&session.actor, ChildId(id), parse_member_key(&who)?))
                    .await;
            respond(result, |m| json_ok(StatusCode::OK, &m))
        });
    let change = warp::path!("api" / "v1" / "children" / u64 / "family" / String)
        .and(warp::put())
        .and(authed_json::<MemberChangeIn>(service.clone()))
        .then(|id: u64, who: String, input: AuthedJson<MemberChangeIn>| async move {
            let (svc, session, input) = or_respond!(input);
            let result = blocking(move || {
                let who = parse_member_key(&who)?;
                let person = match (who, input.person, input.person_rev) {
                    (MemberRef::Person(_), Some(p), Some(rev)) => Some((rev, p.edit()?)),
                    (_, Some(_), None) => {
                        return Err(Error::invalid("rev", "person_rev is required with person"));
                    }
                    (MemberRef::Child(_), Some(_), _) => {
                        return Err(Error::invalid(
                            "who",
                            "a child's details are edited on its own face sheet",
                        ));
                    }
                    (_, None, _) => None,
                };
                let edit = MemberEdit {
                    who,
                    household_rev: input.household_rev,
                    person,
                    standing: input.standing.standing(),
                    cohabiting: input.standing.cohabiting,
                };
                svc.edit_family_member(&session.actor, ChildId(id), edit)
            })
            .await;
            respond(result, |h| json_ok(StatusCode::OK, &h))
        });
    let remove = warp::path!("api" / "v1" / "children" / u64 / "family" / String)
        .and(warp::delete())
        .and(query::<RemoveQuery>())
        .and(authenticated(service))
        .then(|id: u64, who: String, q: Result<RemoveQuery, Response>, auth: Authed| async move {
            let (svc, session) = or_respond!(auth);
            let q = or_respond!(q);
            let result = blocking(move || {
                svc.remove_family_member(
                    &session.actor,
                    ChildId(id),
                    parse_member_key(&who)?,
                    q.household_rev,
                )
            })
            .await;
            respond(result, |h| json_ok(StatusCode::OK, &h))
        });
    add.or(get).unify().or(change).unify().or(remove).unify()
}
