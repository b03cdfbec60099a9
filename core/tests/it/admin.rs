//! What administrators change (#5): staff roles and units, console keys, re-registered tablets,
//! code-table entries. Each change is checked against what it must do to sessions and secrets.

use mamoru_core::code_table::CodeEntry;
use mamoru_core::device::{DeviceChange, DeviceName};
use mamoru_core::staff::StaffChange;
use mamoru_core::staff::{Password, Role};
use mamoru_core::time::Date;

use crate::support::{PASSWORD, signed_in, world};

fn edit(rev: u64, name: &str, role: Role, units: Vec<mamoru_core::ids::UnitId>) -> StaffChange {
    StaffChange::Edit { rev, display_name: name.into(), role, units }
}

#[test]
fn a_role_or_unit_change_is_checked_against_the_revision_and_ends_the_persons_sessions() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let (token, _) = w.svc.sign_in("cw", &Password::attempt(PASSWORD), None, None).unwrap();
    let rev = |login: &str| {
        w.svc.list_staff(&w.admin).unwrap().into_iter().find(|s| s.body.login.as_str() == login).unwrap().rev
    };
    let r1 = rev("cw");
    // A new display name alone keeps the session.
    w.svc.change_staff(&w.admin, "cw", &edit(r1, "木下 福祉司", Role::Caseworker, vec![w.u1])).unwrap();
    assert!(w.svc.session(&token, None).is_ok());
    // A stale form is refused and changes nothing.
    let stale =
        w.svc.change_staff(&w.admin, "cw", &edit(r1, "別の名前", Role::Supervisor, vec![w.u1])).unwrap_err();
    assert_eq!(stale.code(), "conflict");
    assert!(w.svc.session(&token, None).is_ok());
    // Promotion: the session ends, and the next one carries the new role and units.
    w.svc
        .change_staff(&w.admin, "cw", &edit(rev("cw"), "木下 福祉司", Role::Supervisor, vec![w.u1, w.u2]))
        .unwrap();
    assert!(w.svc.session(&token, None).is_err());
    let (token, info) = w.svc.sign_in("cw", &Password::attempt(PASSWORD), None, None).unwrap();
    assert_eq!(info.actor.role(), Role::Supervisor);
    assert_eq!(info.actor.units(), vec![w.u1, w.u2]);
    assert!(w.svc.session(&token, None).is_ok());

    // What cannot be meant is refused.
    let r = rev("cw");
    let no_units =
        w.svc.change_staff(&w.admin, "cw", &edit(r, "木下", Role::Caseworker, vec![])).unwrap_err();
    assert_eq!(no_units.code(), "invalid");
    let blank = w.svc.change_staff(&w.admin, "cw", &edit(r, "  ", Role::Caseworker, vec![w.u1])).unwrap_err();
    assert_eq!(blank.code(), "invalid");
    let own = w
        .svc
        .change_staff(
            &w.admin,
            "admin",
            &StaffChange::Edit {
                rev: rev("admin"),
                display_name: "管理者".into(),
                role: Role::Head,
                units: vec![w.u1],
            },
        )
        .unwrap_err();
    assert!(own.to_string().contains("administrator role from yourself"), "{own}");
    let by_caseworker = w
        .svc
        .change_staff(
            &cw,
            "cw",
            &StaffChange::Edit {
                rev: r, display_name: "木下".into(), role: Role::Admin, units: vec![w.u1]
            },
        )
        .unwrap_err();
    assert_eq!(by_caseworker.code(), "forbidden");
}

#[test]
fn a_new_staff_member_gets_a_one_time_password_and_a_removed_key_no_longer_opens_the_console() {
    let w = world();
    let new = mamoru_core::service::NewStaff {
        login: mamoru_core::staff::Login::parse("newcomer").unwrap(),
        display_name: "新任 職員".into(),
        role: Role::Clerk,
        units: vec![w.u2],
    };
    let (_, password) = w.svc.add_staff_with_one_time_password(&w.admin, new).unwrap();
    assert_eq!(password.len(), 14);
    assert!(w.svc.sign_in("newcomer", &Password::attempt(password.as_str()), None, None).is_ok());

    let key_a = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa a@pc";
    let key_b = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb b@pc";
    w.svc.change_staff(&w.admin, "newcomer", &StaffChange::AddConsoleKey(key_a.to_owned())).unwrap();
    w.svc.change_staff(&w.admin, "newcomer", &StaffChange::AddConsoleKey(key_b.to_owned())).unwrap();
    let console = signed_in(w.svc.console_sign_in("newcomer", key_a, None).unwrap());
    assert!(w.svc.console_still_valid(&console, key_a));
    // Removed by its key data, whatever its comment.
    let bare = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    w.svc.change_staff(&w.admin, "newcomer", &StaffChange::RemoveConsoleKey(bare.into())).unwrap();
    assert!(!w.svc.console_still_valid(&console, key_a), "an open console with it ends");
    assert!(w.svc.console_sign_in("newcomer", key_a, None).is_err());
    assert!(w.svc.console_sign_in("newcomer", key_b, None).is_ok(), "the other key stays");
    let again = w
        .svc
        .change_staff(&w.admin, "newcomer", &StaffChange::RemoveConsoleKey(key_a.to_owned()))
        .unwrap_err();
    assert_eq!(again.code(), "not_found");
    // A console open with the other key ends when the person's role changes.
    let console = signed_in(w.svc.console_sign_in("newcomer", key_b, None).unwrap());
    assert!(w.svc.console_still_valid(&console, key_b));
    let rev = w.svc.list_staff(&w.admin).unwrap().into_iter().find(|s| s.body.login.as_str() == "newcomer");
    w.svc
        .change_staff(
            &w.admin,
            "newcomer",
            &StaffChange::Edit {
                rev: rev.unwrap().rev,
                display_name: "新任 職員".into(),
                role: Role::Head,
                units: vec![w.u2],
            },
        )
        .unwrap();
    assert!(!w.svc.console_still_valid(&console, key_b), "it acted with the old role");
}

#[test]
fn a_re_registered_tablet_drops_its_old_secret_and_sessions_and_works_again_with_its_new_code() {
    let w = world();
    w.staff("cw", Role::Caseworker, w.u1);
    let (device, code, _) = w.svc.issue_device_code(&w.admin, &DeviceName::parse("iPad 7").unwrap()).unwrap();
    let (_, old_secret) = w.svc.redeem_device_code(&code, None).unwrap();
    let (token, _) = w.svc.sign_in("cw", &Password::attempt(PASSWORD), None, Some(device)).unwrap();
    w.svc.change_device(&w.admin, device, DeviceChange::Revoke).unwrap();
    assert!(w.svc.device_for_secret(&old_secret).is_err());

    // Found again: a new code, the revocation lifted, the old secret still refused.
    let (code, _) = w.svc.change_device(&w.admin, device, DeviceChange::Reissue).unwrap().unwrap();
    let d = w.svc.devices(&w.admin).unwrap().into_iter().find(|d| d.id == device.0).unwrap();
    assert!(d.body.is_active() && d.body.is_pending());
    assert!(w.svc.device_for_secret(&old_secret).is_err());
    assert!(w.svc.session(&token, None).is_err());
    let (same, new_secret) = w.svc.redeem_device_code(&code, None).unwrap();
    assert_eq!(same, device);
    assert_eq!(w.svc.device_for_secret(&new_secret).unwrap(), device);
    assert!(w.svc.device_for_secret(&old_secret).is_err());

    // An active tablet re-registered (its browser lost the cookie): its sessions end at once.
    let (token, _) = w.svc.sign_in("cw", &Password::attempt(PASSWORD), None, Some(device)).unwrap();
    w.svc.change_device(&w.admin, device, DeviceChange::Reissue).unwrap();
    assert!(w.svc.session(&token, None).is_err());
    assert!(w.svc.device_for_secret(&new_secret).is_err());
    let history = w.svc.store().read().unwrap();
    let versions =
        mamoru_core::store::Reader::history::<mamoru_core::device::Device>(&history, device).unwrap();
    assert!(versions.iter().any(|v| v.body.revoked.is_some()), "the revocation stays in the history");
}

#[test]
fn a_tablet_is_named_in_one_to_sixty_characters_and_revoking_twice_keeps_the_first_revocation() {
    use mamoru_core::error::{Counted, Why};
    let refused = |name: &str| match DeviceName::parse(name) {
        Err(mamoru_core::Error::Invalid { field: "name", reason }) => reason,
        other => panic!("{name:?}: {other:?}"),
    };
    assert_eq!(refused("  "), Why::Required);
    assert_eq!(refused(&"端".repeat(61)), Why::AtMost(60, Counted::Characters));
    assert_eq!(DeviceName::parse(&format!(" {} ", "端".repeat(60))).unwrap().as_str(), "端".repeat(60));

    let w = world();
    let (device, _) = w.svc.register_device(&w.admin, &DeviceName::parse("iPad 8").unwrap()).unwrap();
    w.svc.change_device(&w.admin, device, DeviceChange::Revoke).unwrap();
    let first = w.svc.devices(&w.admin).unwrap()[0].clone();
    w.clock.set(first.at.plus(60));
    assert_eq!(w.svc.change_device(&w.admin, device, DeviceChange::Revoke).unwrap(), None);
    let again = w.svc.devices(&w.admin).unwrap()[0].clone();
    assert_eq!((again.rev, again.body.revoked), (first.rev, first.body.revoked));
}

#[test]
fn code_table_entries_are_checked_and_never_removed() {
    let w = world();
    let table = w.svc.code_tables().unwrap().into_iter().find(|t| t.body.key == "route").unwrap();
    let with = |entry: CodeEntry| {
        let mut body = table.body.clone();
        body.entries.push(entry);
        w.svc.edit_code_table(&w.admin, "route", table.rev, body)
    };
    let entry = |code: &str, label: &str| CodeEntry {
        code: code.into(),
        label: label.into(),
        parent: None,
        valid_from: None,
        valid_until: None,
    };
    let first = table.body.entries[0].code.clone();
    assert_eq!(with(entry(&first, "重複")).unwrap_err().code(), "invalid", "a code twice");
    assert_eq!(with(entry("", "空")).unwrap_err().code(), "invalid");
    assert_eq!(with(entry("ながいコード", "全角")).unwrap_err().code(), "invalid");
    assert_eq!(with(entry("X1", "")).unwrap_err().code(), "invalid");
    let backwards = CodeEntry {
        valid_from: Some(Date::parse_iso("2027-04-01").unwrap()),
        valid_until: Some(Date::parse_iso("2026-04-01").unwrap()),
        ..entry("X1", "逆")
    };
    assert_eq!(with(backwards).unwrap_err().code(), "invalid");
    with(CodeEntry {
        valid_from: Some(Date::parse_iso("2027-04-01").unwrap()), ..entry("X1", "新しい経路")
    })
    .unwrap();
    let now = w.svc.code_tables().unwrap().into_iter().find(|t| t.body.key == "route").unwrap();
    assert!(now.body.entries.iter().any(|e| e.code == "X1" && e.label == "新しい経路"));
    let mut fewer = now.body.clone();
    fewer.entries.retain(|e| e.code != "X1");
    let removed = w.svc.edit_code_table(&w.admin, "route", now.rev, fewer).unwrap_err();
    assert!(removed.to_string().contains("valid_until"), "{removed}");
}

#[test]
fn refused_console_connections_are_audited_until_a_lock_and_a_listed_key_still_gets_in() {
    let w = world();
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa a@pc";
    w.svc.change_staff(&w.admin, "admin", &StaffChange::AddConsoleKey(key.to_owned())).unwrap();
    assert!(w.svc.console_key_listed("admin", key));
    assert!(!w.svc.console_key_listed(
        "admin",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    ));
    assert!(!w.svc.console_key_listed("nobody", key));
    let audited = |action: &str| {
        w.svc.audit_log(&w.admin, 0, 10_000).unwrap().into_iter().filter(|e| e.action == action).count()
    };
    let before = audited("console_sign_in");
    let stranger: std::net::IpAddr = "10.9.8.7".parse().unwrap();
    // Five refused connections are audited one entry each; the fifth starts the login's lock.
    for _ in 0..5 {
        w.svc.console_refused(Some(stranger), "admin", 3).unwrap();
    }
    assert_eq!(audited("console_sign_in") - before, 5);
    assert_eq!(audited("console_sign_in_locked"), 1);
    let entry =
        w.svc.audit_log(&w.admin, 0, 10_000).unwrap().into_iter().rfind(|e| e.action == "console_sign_in");
    let entry = entry.unwrap();
    assert_eq!(entry.result, "bad_credentials");
    assert_eq!(entry.detail.as_deref(), Some("3 refused from 10.9.8.7"));
    // While locked, a flood writes nothing more...
    for _ in 0..50 {
        w.svc.console_refused(Some(stranger), "admin", 6).unwrap();
    }
    assert_eq!(audited("console_sign_in") - before, 5);
    assert_eq!(audited("console_sign_in_locked"), 1);
    // ... the listed key still signs in, and the web's count for the login is untouched.
    assert!(w.svc.console_sign_in("admin", key, None).is_ok());
    assert!(w.svc.sign_in("admin", &Password::attempt(PASSWORD), None, None).is_ok());
    // The sign-in cleared the login's count: the next refusal is audited at once.
    w.svc.console_refused(Some(stranger), "admin", 1).unwrap();
    assert_eq!(audited("console_sign_in") - before, 7, "the sign-in and the new refusal");
    assert_eq!(audited("console_sign_in_locked"), 1);
}

#[test]
fn one_code_entry_is_added_or_changed_in_core_and_a_day_count_table_takes_only_day_counts() {
    use mamoru_core::code_table::{CodeEntryEdit, HEARING_AFTER_URGENT_START};
    let w = world();
    let rev = |key: &str| w.svc.code_tables().unwrap().into_iter().find(|t| t.body.key == key).unwrap().rev;
    let edit = |code: &str, label: &str| CodeEntryEdit {
        code: code.into(),
        label: label.into(),
        valid_from: None,
        valid_until: None,
    };
    w.svc.put_code_entry(&w.admin, "route", rev("route"), edit("X2", "新しい経路"), true).unwrap();
    let r = w.svc.put_code_entry(&w.admin, "route", rev("route"), edit("X2", "二度目"), true);
    assert_eq!(r.unwrap_err().code(), "invalid", "a code the table has already");
    let r = w.svc.put_code_entry(&w.admin, "route", rev("route"), edit("X3", "ない"), false);
    assert_eq!(r.unwrap_err().code(), "not_found");
    let stale = rev("route") - 1;
    let r = w.svc.put_code_entry(&w.admin, "route", stale, edit("X2", "古い画面から"), false);
    assert_eq!(r.unwrap_err().code(), "conflict");
    w.svc.put_code_entry(&w.admin, "route", rev("route"), edit("X2", "名前を変更"), false).unwrap();
    let table = w.svc.code_tables().unwrap().into_iter().find(|t| t.body.key == "route").unwrap();
    assert!(table.body.entries.iter().any(|e| e.code == "X2" && e.label == "名前を変更"));
    // The urgent-hearing period is a number of days.
    let key = HEARING_AFTER_URGENT_START;
    let r = w.svc.put_code_entry(&w.admin, key, rev(key), edit("x", "三日"), true);
    assert_eq!(r.unwrap_err().code(), "invalid");
    w.svc.put_code_entry(&w.admin, key, rev(key), edit("5", "開始日を含めて5日以内"), true).unwrap();
}
