//! `user`, `device` and `check`: the administrator's verbs on the local store.

use std::path::Path;

use anyhow::{Context, Result, bail};
use mamoru_core::device::{DeviceChange, DeviceName};
use mamoru_core::ids::{DeviceId, UnitId};
use mamoru_core::service::NewStaff;
use mamoru_core::staff::{Login, Password, Role, StaffChange};

use super::{local_admin, open, read_password_file};
use crate::cli::{DeviceCommand, KeyCommand, UserCommand};

pub(super) fn user(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add { data, login, role, units, name, password_file } => {
            add_user(&data.data, &login, &role, units, name, &password_file)?;
        }
        UserCommand::List(data) => list_users(&data.data)?,
        UserCommand::Units(data) => {
            let service = open(&data.data)?;
            for u in service.units()? {
                println!("{}\t{}\t{}", u.id, u.body.case_prefix, u.body.name);
            }
        }
        UserCommand::Disable { data, login } => set_disabled(&data.data, &login, true)?,
        UserCommand::Enable { data, login } => set_disabled(&data.data, &login, false)?,
        UserCommand::Passwd { data, login, password_file } => {
            let service = open(&data.data)?;
            let admin = local_admin(&service)?;
            let password = Password::new(read_password_file(&password_file)?).context("password")?;
            service.set_password(&admin, &login, &password).map_err(unknown_user(&login))?;
            println!("password of {login} changed");
        }
        UserCommand::ResetTotp { data, login } => {
            let service = open(&data.data)?;
            service.reset_totp(&local_admin(&service)?, &login).map_err(unknown_user(&login))?;
            println!("second factor of {login} removed; they enrol again at their next sign-in");
        }
        UserCommand::Verify { data, login, password_file } => {
            let service = open(&data.data)?;
            let password = Password::attempt(read_password_file(&password_file)?);
            service
                .authenticate(&login, &password, None, Some("local-cli".into()))
                .map_err(|_| anyhow::anyhow!("wrong login or password for {login}"))?;
            println!("password of {login} is correct");
        }
        UserCommand::Key(KeyCommand::Add { data, login, file }) => {
            let service = open(&data.data)?;
            let admin = local_admin(&service)?;
            let key = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read key file {}", file.display()))?;
            service
                .change_staff(&admin, &login, &StaffChange::AddConsoleKey(key))
                .map_err(unknown_user(&login))?;
            println!("console key added for {login}");
        }
    }
    Ok(())
}

fn add_user(
    data: &Path,
    login: &str,
    role: &str,
    units: Vec<u64>,
    name: String,
    password_file: &Path,
) -> Result<()> {
    let service = open(data)?;
    let admin = local_admin(&service)?;
    let password = Password::new(read_password_file(password_file)?).context("password")?;
    let new = NewStaff {
        login: Login::parse(login)?,
        display_name: name,
        role: Role::parse(role)?,
        units: units.into_iter().map(UnitId).collect(),
    };
    let id = service.add_staff(&admin, new, &password)?;
    println!("added {login} (staff {id})");
    Ok(())
}

/// One line per member of staff, tab-separated: login, role, units, state, name.
fn list_users(data: &Path) -> Result<()> {
    let service = open(data)?;
    let admin = local_admin(&service)?;
    for s in service.list_staff(&admin)? {
        let units: Vec<String> = s.body.units.iter().map(ToString::to_string).collect();
        let state = if s.body.disabled { "disabled" } else { "active" };
        let b = &s.body;
        println!("{}\t{}\t{}\t{}\t{}", b.login, b.role.as_str(), units.join(","), state, b.display_name);
    }
    Ok(())
}

pub(super) fn unknown_user(login: &str) -> impl FnOnce(mamoru_core::Error) -> anyhow::Error + '_ {
    move |e| match e {
        mamoru_core::Error::NotFound { what: "staff", .. } => anyhow::anyhow!("unknown user {login}"),
        other => other.into(),
    }
}

pub(super) fn set_disabled(dir: &Path, login: &str, disabled: bool) -> Result<()> {
    let service = open(dir)?;
    let admin = local_admin(&service)?;
    let change = if disabled { StaffChange::Disable } else { StaffChange::Enable };
    service.change_staff(&admin, login, &change).map_err(unknown_user(login))?;
    println!("{login} {}", if disabled { "disabled" } else { "enabled" });
    Ok(())
}

pub(super) fn check(dir: &Path) -> Result<()> {
    // The running server holds the store: it runs the same check itself, on a copy.
    let service = open(dir).map_err(|e| {
        if super::in_use(&e) {
            anyhow::anyhow!(
                "the server is running on {}: check it from the console (`mamoru console`, バックアップ, i)",
                dir.display()
            )
        } else {
            e
        }
    })?;
    let report = service.check_with_pages()?;
    for (kind, count) in &report.counts {
        println!("{kind} {count}");
    }
    for p in &report.problems {
        eprintln!("problem: {p}");
    }
    if !report.problems.is_empty() {
        bail!("{} integrity problem(s) found", report.problems.len());
    }
    Ok(())
}

pub(super) fn device(cmd: DeviceCommand) -> Result<()> {
    match cmd {
        DeviceCommand::Add { data, name } => {
            let service = open(&data.data)?;
            let (id, code, expires) =
                service.issue_device_code(&local_admin(&service)?, &DeviceName::parse(&name)?)?;
            println!("device {id} added; waiting for the tablet to enter its registration code");
            println!("code (shown once, valid until {}): {code}", expires.to_jst_string());
            println!("on the tablet, open https://SERVER/register and enter the code");
        }
        DeviceCommand::List(data) => {
            let service = open(&data.data)?;
            for d in service.devices(&local_admin(&service)?)? {
                let state = match (d.body.is_active(), d.body.is_pending()) {
                    (false, _) => "revoked",
                    (true, true) => "pending",
                    (true, false) => "active",
                };
                println!("{}\t{state}\t{}", d.id, d.body.name);
            }
        }
        DeviceCommand::Revoke { data, id } => {
            let service = open(&data.data)?;
            let revoke = DeviceChange::Revoke;
            service.change_device(&local_admin(&service)?, DeviceId(id), revoke).map_err(|e| match e {
                mamoru_core::Error::NotFound { .. } => anyhow::anyhow!("unknown device {id}"),
                other => other.into(),
            })?;
            println!("device {id} revoked");
        }
    }
    Ok(())
}
