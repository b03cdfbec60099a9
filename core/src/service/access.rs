//! Who is acting, and the scope rules: a record is readable by staff of a unit that holds it or
//! whose policy lets it read that unit; writable only by staff of the unit that holds it; a
//! restricted (閲覧制限) record only by the staff it names.

use crate::case::Case;
use crate::error::{Error, Result};
use crate::ids::{StaffId, UnitId};
use crate::person::Child;
use crate::staff::{Action, Login, Role, Staff, Unit};
use crate::store::{Reader, Versioned};

/// A signed-in staff member acting from a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub staff: StaffId,
    pub login: Login,
    pub display_name: String,
    pub role: Role,
    pub units: Vec<UnitId>,
    pub device: Option<String>,
}

impl Actor {
    pub(crate) fn from_staff(s: &Versioned<Staff>, device: Option<String>) -> Self {
        Self {
            staff: StaffId(s.id),
            login: s.body.login.clone(),
            display_name: s.body.display_name.clone(),
            role: s.body.role,
            units: s.body.units.clone(),
            device,
        }
    }

    /// The local operator at the server (CLI verbs run by whoever holds the data directory),
    /// acting as the given administrator.
    pub fn local(s: &Versioned<Staff>) -> Self {
        Self::from_staff(s, Some("local-cli".into()))
    }
}

fn forbidden(action: Action) -> Error {
    Error::Forbidden { action: action.as_str() }
}

/// The units whose records `actor` may read: their own, and those their units' policy opens.
pub(crate) fn readable_units(r: &impl Reader, actor: &Actor) -> Result<Vec<UnitId>> {
    let mut out = actor.units.clone();
    for u in &actor.units {
        if let Some(unit) = r.get::<Unit>(*u)? {
            out.extend(unit.body.may_read_units);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn restricted_ok(actor: &Actor, restricted_to: Option<&Vec<StaffId>>) -> bool {
    restricted_to.is_none_or(|names| names.contains(&actor.staff))
}

pub(crate) fn child_units(child: &Child) -> impl Iterator<Item = UnitId> + '_ {
    std::iter::once(child.unit).chain(child.units.iter().copied())
}

/// What one actor may read, worked out once per request.
pub(crate) struct Scope<'a> {
    actor: &'a Actor,
    readable: Vec<UnitId>,
}

impl<'a> Scope<'a> {
    pub(crate) fn of(r: &impl Reader, actor: &'a Actor) -> Result<Self> {
        Ok(Self { actor, readable: readable_units(r, actor)? })
    }

    pub(crate) fn can_read_unit(&self, unit: UnitId) -> bool {
        self.readable.contains(&unit)
    }

    pub(crate) fn can_read_child(&self, child: &Child) -> bool {
        restricted_ok(self.actor, child.restricted_to.as_ref())
            && child_units(child).any(|u| self.can_read_unit(u))
    }

    pub(crate) fn check_read_child(&self, child: &Child, action: Action) -> Result<()> {
        if self.can_read_child(child) { Ok(()) } else { Err(forbidden(action)) }
    }

    pub(crate) fn can_read_case(&self, case: &Case) -> bool {
        restricted_ok(self.actor, case.restricted_to.as_ref()) && self.can_read_unit(case.unit)
    }

    pub(crate) fn check_read_case(&self, case: &Case, action: Action) -> Result<()> {
        if self.can_read_case(case) { Ok(()) } else { Err(forbidden(action)) }
    }
}

/// Writing a child's face sheet: staff of a unit that holds the child.
pub(crate) fn check_write_child(actor: &Actor, child: &Child, action: Action) -> Result<()> {
    let own = child_units(child).any(|u| actor.units.contains(&u));
    if own && restricted_ok(actor, child.restricted_to.as_ref()) { Ok(()) } else { Err(forbidden(action)) }
}

pub(crate) fn check_write_case(actor: &Actor, case: &Case, action: Action) -> Result<()> {
    if actor.units.contains(&case.unit) && restricted_ok(actor, case.restricted_to.as_ref()) {
        Ok(())
    } else {
        Err(forbidden(action))
    }
}

pub(crate) fn check_own_unit(actor: &Actor, unit: UnitId, action: Action) -> Result<()> {
    if actor.units.contains(&unit) { Ok(()) } else { Err(forbidden(action)) }
}
