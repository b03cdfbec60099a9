//! Who is acting, and the scope rules: a record is readable by staff of a unit that holds it or
//! whose policy lets it read that unit; writable only by staff of the unit that holds it; a
//! restricted (閲覧制限) record only by the staff it names.

use std::net::IpAddr;

use crate::audit::AuditEntry;
use crate::case::Case;
use crate::error::{Error, Result};
use crate::ids::{StaffId, UnitId};
use crate::person::Child;
use crate::staff::{Action, Login, Role, Staff, Unit};
use crate::store::{Reader, Versioned};
use crate::time::Timestamp;

/// A signed-in staff member acting from a device. Only core makes one: a web or console
/// sign-in, or the local operator at the server (`Service::local_admin`, `Service::local_actor`);
/// a front-end reads who is acting and can change none of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub(crate) staff: StaffId,
    pub(crate) login: Login,
    pub(crate) display_name: String,
    pub(crate) role: Role,
    pub(crate) units: Vec<UnitId>,
    pub(crate) device: Option<String>,
    /// The network address this request came from, for the audit log (set per request by the
    /// session lookup, at sign-in, or by the console's SSH peer).
    pub(crate) address: Option<IpAddr>,
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
            address: None,
        }
    }

    /// An audit entry for `action` by this actor: who, from which device and address.
    pub(crate) fn audit_entry(&self, at: Timestamp, action: &str) -> AuditEntry {
        AuditEntry::new(at, self.staff.0, self.device.clone(), action).from_address(self.address)
    }

    /// The client's address, where the request came over a network.
    #[must_use]
    pub fn address(&self) -> Option<IpAddr> {
        self.address
    }

    #[must_use]
    pub fn staff(&self) -> StaffId {
        self.staff
    }

    #[must_use]
    pub fn login(&self) -> &Login {
        &self.login
    }

    #[must_use]
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the actor's role may take `action` (the one permission table, [`Role::may`]);
    /// scope (unit, restriction) is checked by the call itself.
    #[must_use]
    pub fn may(&self, action: Action) -> bool {
        self.role.may(action)
    }

    /// Whether the actor would work a case they take in: 担当 is someone who may edit cases.
    #[must_use]
    pub fn may_be_assigned(&self) -> bool {
        self.role.may(Action::EditCase)
    }

    #[must_use]
    pub fn units(&self) -> &[UnitId] {
        &self.units
    }

    /// The device acted from: a tablet's name, `local-cli`, `ssh`…
    #[must_use]
    pub fn device(&self) -> Option<&str> {
        self.device.as_deref()
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

fn restricted_ok(actor: &Actor, restricted_to: Option<&[StaffId]>) -> bool {
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
        self.can_read_child_in(child.unit, &child.units, child.restricted_to.as_deref())
    }

    /// `can_read_child` of a child registered by `unit`, with cases in `units` and the
    /// restriction `restricted_to` (for a list that reads only these of each child).
    pub(crate) fn can_read_child_in(
        &self,
        unit: UnitId,
        units: &[UnitId],
        restricted_to: Option<&[StaffId]>,
    ) -> bool {
        restricted_ok(self.actor, restricted_to)
            && std::iter::once(unit).chain(units.iter().copied()).any(|u| self.can_read_unit(u))
    }

    pub(crate) fn check_read_child(&self, child: &Child, action: Action) -> Result<()> {
        if self.can_read_child(child) { Ok(()) } else { Err(forbidden(action)) }
    }

    pub(crate) fn can_read_case(&self, case: &Case) -> bool {
        self.can_read_case_in(case.unit, case.restricted_to.as_deref())
    }

    /// `can_read_case` of a case in `unit` with the restriction `restricted_to`.
    pub(crate) fn can_read_case_in(&self, unit: UnitId, restricted_to: Option<&[StaffId]>) -> bool {
        restricted_ok(self.actor, restricted_to) && self.can_read_unit(unit)
    }

    pub(crate) fn check_read_case(&self, case: &Case, action: Action) -> Result<()> {
        if self.can_read_case(case) { Ok(()) } else { Err(forbidden(action)) }
    }
}

/// Writing a child's face sheet: staff of a unit that holds the child.
pub(crate) fn check_write_child(actor: &Actor, child: &Child, action: Action) -> Result<()> {
    let own = child_units(child).any(|u| actor.units.contains(&u));
    if own && restricted_ok(actor, child.restricted_to.as_deref()) { Ok(()) } else { Err(forbidden(action)) }
}

pub(crate) fn check_write_case(actor: &Actor, case: &Case, action: Action) -> Result<()> {
    if actor.units.contains(&case.unit) && restricted_ok(actor, case.restricted_to.as_deref()) {
        Ok(())
    } else {
        Err(forbidden(action))
    }
}

pub(crate) fn check_own_unit(actor: &Actor, unit: UnitId, action: Action) -> Result<()> {
    if actor.units.contains(&unit) { Ok(()) } else { Err(forbidden(action)) }
}
