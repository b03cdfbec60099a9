//! Sign-in: the TOTP second factor (enrolment, one use per code, reset), and sessions bound to a
//! registered device.

use mamoru_core::Error;
use mamoru_core::device::{DeviceChange, DeviceName};
use mamoru_core::ids::CredentialId;
use mamoru_core::service::{ConsolePending, ConsoleStep};
use mamoru_core::staff::{Credential, Password, Role, StaffChange};
use mamoru_core::store::Reader;
use mamoru_core::totp;

use crate::support::{PASSWORD, signed_in, world};

#[test]
fn the_second_factor_is_enrolled_required_used_once_and_reset() {
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let pw = Password::attempt(PASSWORD);
    assert!(w.svc.sign_in("cw", &pw, None, None).is_ok(), "no second factor yet");

    let url = w.svc.begin_totp(&cw).unwrap();
    assert!(
        url.starts_with("otpauth://totp/") && url.contains("secret=") && url.contains("issuer=Mamoru"),
        "{url}"
    );
    assert!(w.svc.sign_in("cw", &pw, None, None).is_ok(), "an unconfirmed enrolment changes nothing");
    let secret = w
        .svc
        .store()
        .read()
        .unwrap()
        .require::<Credential>(CredentialId(cw.staff().0))
        .unwrap()
        .body
        .totp_pending
        .unwrap();
    let now = || mamoru_core::time::Clock::now(&*w.clock);
    let valid = [-30, 0, 30].map(|d| totp::code_at(&secret, now().plus(d)).unwrap());
    let wrong =
        ["000000", "111111", "222222", "333333"].into_iter().find(|c| !valid.iter().any(|v| v == c)).unwrap();
    assert!(matches!(w.svc.confirm_totp(&cw, wrong), Err(Error::Invalid { .. })));
    w.svc.confirm_totp(&cw, &totp::code_at(&secret, now()).unwrap()).unwrap();

    // Now the code is required; the one used to confirm cannot be used again.
    assert!(matches!(w.svc.sign_in("cw", &pw, None, None), Err(Error::BadCredentials)));
    let used = totp::code_at(&secret, now()).unwrap();
    assert!(matches!(w.svc.sign_in("cw", &pw, Some(&used), None), Err(Error::BadCredentials)));
    w.clock.advance(30);
    let fresh = totp::code_at(&secret, now()).unwrap();
    assert!(matches!(
        w.svc.sign_in("cw", &Password::attempt("wrong password!"), Some(&fresh), None),
        Err(Error::BadCredentials)
    ));
    assert!(w.svc.sign_in("cw", &pw, Some(&fresh), None).is_ok());
    assert!(
        matches!(w.svc.sign_in("cw", &pw, Some(&fresh), None), Err(Error::BadCredentials)),
        "replay refused"
    );
    // Steps only go forward: a code from before the last accepted one is refused.
    w.clock.advance(30);
    let late_old = totp::code_at(&secret, now().plus(-30)).unwrap();
    assert!(matches!(w.svc.sign_in("cw", &pw, Some(&late_old), None), Err(Error::BadCredentials)));

    // The administrator resets a lost phone: password alone works again, until re-enrolment.
    w.svc.reset_totp(&w.admin, "cw").unwrap();
    assert!(w.svc.sign_in("cw", &pw, None, None).is_ok());
    assert!(matches!(w.svc.reset_totp(&cw, "cw"), Err(Error::Forbidden { .. })));
}

/// The pending second step of a console sign-in that asked for a code.
fn code_asked(step: ConsoleStep) -> ConsolePending {
    match step {
        ConsoleStep::Code(pending) => pending,
        ConsoleStep::SignedIn(_) => panic!("signed in without a code"),
    }
}

#[test]
fn the_console_asks_for_a_code_after_the_key_and_a_person_without_one_enrols_there() {
    let w = world();
    let now = || mamoru_core::time::Clock::now(&*w.clock);
    let cw = w.staff("cw", Role::Supervisor, w.u1);
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFictionalConsoleKeyForTotpTest000000000 cw@pc";
    w.svc.change_staff(&w.admin, "cw", &StaffChange::AddConsoleKey(key.to_owned())).unwrap();
    let office: std::net::IpAddr = "192.0.2.9".parse().unwrap();
    // Off (the demo's setting) and not enrolled: the key alone signs in.
    assert!(!w.svc.console_totp_required());
    signed_in(w.svc.console_sign_in("cw", key, Some(office)).unwrap());

    // Required: the key is not enough; someone without a second factor is shown a secret, the
    // same one again at the next connection, and enrols with its first code.
    w.svc.set_console_totp_required(true);
    let pending = code_asked(w.svc.console_sign_in("cw", key, Some(office)).unwrap());
    assert_eq!(pending.login(), "cw");
    let (url, typed) = pending.enrolment().map(|(u, k)| (u.to_owned(), k)).unwrap();
    assert!(url.starts_with("otpauth://totp/") && url.contains("issuer=Mamoru"), "{url}");
    assert!(typed.len() >= 32 && typed.split(' ').all(|g| g.len() <= 4), "{typed}");
    let again = code_asked(w.svc.console_sign_in("cw", key, Some(office)).unwrap());
    assert_eq!(again.enrolment().unwrap().0, url, "a reconnection shows the secret begun");
    let secret = totp::url_secret(&url).unwrap();
    let right = totp::code_at(&secret, now()).unwrap();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    assert!(matches!(w.svc.console_code(&pending, wrong), Err(Error::BadCredentials)));
    let actor = w.svc.console_code(&pending, &right).unwrap();
    assert_eq!(actor.address(), Some(office));
    // Enrolled now: the web asks for the code too, and the console asks even when not required.
    assert!(matches!(
        w.svc.sign_in("cw", &Password::attempt(PASSWORD), None, None),
        Err(Error::BadCredentials)
    ));
    w.svc.set_console_totp_required(false);
    let pending = code_asked(w.svc.console_sign_in("cw", key, None).unwrap());
    assert!(pending.enrolment().is_none(), "the secret is shown only until it is confirmed");
    assert!(matches!(w.svc.console_code(&pending, &right), Err(Error::BadCredentials)), "replay refused");
    w.clock.advance(30);
    w.svc.console_code(&pending, &totp::code_at(&secret, now()).unwrap()).unwrap();

    // The key removed between the two steps: the code is refused.
    w.clock.advance(30);
    let pending = code_asked(w.svc.console_sign_in("cw", key, None).unwrap());
    w.svc.change_staff(&w.admin, "cw", &StaffChange::RemoveConsoleKey(key.to_owned())).unwrap();
    assert!(matches!(
        w.svc.console_code(&pending, &totp::code_at(&secret, now()).unwrap()),
        Err(Error::BadCredentials)
    ));
    w.svc.change_staff(&w.admin, "cw", &StaffChange::AddConsoleKey(key.to_owned())).unwrap();
    w.clock.advance(30);
    let pending = code_asked(w.svc.console_sign_in("cw", key, None).unwrap());
    w.svc.console_code(&pending, &totp::code_at(&secret, now()).unwrap()).unwrap();

    // Guessing: the login locks after five wrong codes, and then even the right one is not
    // looked at; an administrator's reset of the second factor lifts the lock.
    let pending = code_asked(w.svc.console_sign_in("cw", key, None).unwrap());
    let valid = [-30, 0, 30].map(|d| totp::code_at(&secret, now().plus(d)).unwrap());
    let guesses = (0..100).map(|n| format!("{n:06}")).filter(|c| !valid.contains(c)).take(5);
    for guess in guesses {
        assert!(matches!(w.svc.console_code(&pending, &guess), Err(Error::BadCredentials)));
    }
    let locked = w.svc.console_code(&pending, &totp::code_at(&secret, now()).unwrap());
    assert!(matches!(locked, Err(Error::TooManyAttempts { .. })), "{locked:?}");
    w.svc.reset_totp(&w.admin, "cw").unwrap();
    w.svc.set_console_totp_required(true);
    let pending = code_asked(w.svc.console_sign_in("cw", key, None).unwrap());
    let url = pending.enrolment().unwrap().0.to_owned();
    w.svc.console_code(&pending, &totp::code_at(&totp::url_secret(&url).unwrap(), now()).unwrap()).unwrap();

    let log = w.svc.audit_log(&w.admin, 1, usize::MAX).unwrap();
    let codes: Vec<_> = log.iter().filter(|e| e.detail.as_deref() == Some("second factor")).collect();
    assert_eq!(codes.iter().filter(|e| e.result == "ok").count(), 4, "{codes:#?}");
    assert_eq!(codes.iter().filter(|e| e.result == "bad_credentials").count(), 8, "{codes:#?}");
    assert!(codes.iter().all(|e| e.action == "console_sign_in" && e.device.as_deref() == Some("console")));
    assert_eq!(codes[0].address.as_deref(), Some("192.0.2.9"));
    assert_eq!(log.iter().filter(|e| e.action == "console_sign_in_locked").count(), 1);
    assert_eq!(log.iter().filter(|e| e.action == "totp_enrolled").count(), 2);

    // The second factor reset between the key and the code: no code, however right, signs in.
    let secret = totp::url_secret(&url).unwrap();
    w.clock.advance(30);
    let pending = code_asked(w.svc.console_sign_in("cw", key, None).unwrap());
    w.svc.reset_totp(&w.admin, "cw").unwrap();
    let r = w.svc.console_code(&pending, &totp::code_at(&secret, now()).unwrap());
    assert!(matches!(r, Err(Error::Unauthenticated)), "{r:?}");
    // An enrolment restarted elsewhere (the web) ends the console's: the secret it showed is
    // no longer the one a code would confirm.
    let pending = code_asked(w.svc.console_sign_in("cw", key, None).unwrap());
    let shown = totp::url_secret(pending.enrolment().unwrap().0).unwrap();
    w.svc.begin_totp(&cw).unwrap();
    let r = w.svc.console_code(&pending, &totp::code_at(&shown, now()).unwrap());
    assert!(matches!(r, Err(Error::Unauthenticated)), "{r:?}");
    assert!(!format!("{pending:?}").contains("otpauth"), "the secret stays out of logs");
}

#[test]
fn a_session_bound_to_a_revoked_device_ends() {
    let w = world();
    w.staff("cw", Role::Caseworker, w.u1);
    let (tablet, secret) = w.svc.register_device(&w.admin, &DeviceName::parse("iPad 1").unwrap()).unwrap();
    assert_eq!(w.svc.device_for_secret(&secret).unwrap(), tablet);
    let pw = Password::attempt(PASSWORD);
    let (on_tablet, info) = w.svc.sign_in("cw", &pw, None, Some(tablet)).unwrap();
    assert_eq!(info.actor.device(), Some(format!("device:{tablet}").as_str()));
    let (elsewhere, _) = w.svc.sign_in("cw", &pw, None, None).unwrap();
    w.svc.change_device(&w.admin, tablet, DeviceChange::Revoke).unwrap();
    assert!(matches!(w.svc.session(&on_tablet, None), Err(Error::Unauthenticated)));
    assert!(w.svc.session(&elsewhere, None).is_ok());
    assert!(w.svc.device_for_secret(&secret).is_err());
    assert!(matches!(w.svc.sign_in("cw", &pw, None, Some(tablet)), Err(Error::Unauthenticated)));
}

#[test]
fn each_person_on_each_tablet_keeps_drafts_with_a_key_of_their_own_that_survives_a_new_session() {
    let w = world();
    w.staff("cw", Role::Caseworker, w.u1);
    w.staff("cw2", Role::Caseworker, w.u1);
    let name = |n: &str| DeviceName::parse(n).unwrap();
    let (tablet, _) = w.svc.register_device(&w.admin, &name("iPad 1")).unwrap();
    let (other, _) = w.svc.register_device(&w.admin, &name("iPad 2")).unwrap();
    let pw = Password::attempt(PASSWORD);
    let key = |login: &str, device| w.svc.sign_in(login, &pw, None, device).unwrap();
    let (token, first) = key("cw", Some(tablet));
    // The same person on the same tablet: the same key in every session, and on every page.
    assert_eq!(key("cw", Some(tablet)).1.draft_key, first.draft_key);
    assert_eq!(w.svc.session(&token, None).unwrap().draft_key, first.draft_key);
    assert_eq!(w.svc.peek_session(&token, None).unwrap().draft_key, first.draft_key);
    // Another person, another tablet, or no tablet: another key.
    assert_ne!(key("cw2", Some(tablet)).1.draft_key, first.draft_key);
    assert_ne!(key("cw", Some(other)).1.draft_key, first.draft_key);
    assert_ne!(key("cw", None).1.draft_key, first.draft_key);
    assert_eq!(first.draft_key.to_hex().len(), 64);
    assert!(!format!("{first:?}").contains(&first.draft_key.to_hex()), "the key stays out of logs");
    // The secret is the store's: a restarted server hands out the same keys.
    let dir = w.dir.path().to_owned();
    let crate::support::World { svc, dir: _keep, .. } = w;
    drop(svc);
    let again = mamoru_core::Service::new(
        mamoru_core::store::Store::open(&dir).unwrap(),
        std::sync::Arc::new(mamoru_core::time::FixedClock::new(crate::support::t0())),
    );
    let (_, later) = again.sign_in("cw", &pw, None, Some(tablet)).unwrap();
    assert_eq!(later.draft_key, first.draft_key);
    // A revoked tablet is handed no key: it cannot sign in.
    let admin = again.local_admin("test").unwrap();
    again.change_device(&admin, tablet, DeviceChange::Revoke).unwrap();
    assert!(matches!(again.sign_in("cw", &pw, None, Some(tablet)), Err(Error::Unauthenticated)));
}

#[test]
fn failed_sign_ins_lock_the_login_and_the_address_and_an_administrator_reset_lifts_the_lock() {
    let w = world();
    w.staff("cw", Role::Caseworker, w.u1);
    let (pw, wrong) = (Password::attempt(PASSWORD), Password::attempt("not the password"));
    let here: std::net::IpAddr = "10.0.0.7".parse().unwrap();
    let audit_len = || w.svc.audit_len().unwrap();
    for _ in 0..4 {
        assert!(matches!(
            w.svc.sign_in_from(Some(here), "cw", &wrong, None, None),
            Err(Error::BadCredentials)
        ));
    }
    let before = audit_len();
    assert!(matches!(w.svc.sign_in_from(Some(here), "cw", &wrong, None, None), Err(Error::BadCredentials)));
    assert_eq!(audit_len(), before + 2, "the fifth failure is audited, and so is the lock it starts");

    // Locked: even the right password is refused, without looking at it and without an entry.
    let before = audit_len();
    let locked = w.svc.sign_in_from(None, "CW", &pw, None, None);
    assert!(matches!(locked, Err(Error::TooManyAttempts { retry_after: 60 })), "{locked:?}");
    assert_eq!(audit_len(), before);

    // An unknown login is locked the same way: the lock tells nothing about who exists.
    for _ in 0..5 {
        let _ = w.svc.sign_in_from(None, "nobody", &wrong, None, None);
    }
    assert!(matches!(w.svc.sign_in("nobody", &wrong, None, None), Err(Error::TooManyAttempts { .. })));

    // The lock runs out; a new password from an administrator lifts it at once.
    w.clock.advance(61);
    assert!(w.svc.sign_in("cw", &pw, None, None).is_ok(), "a success clears the count");
    for _ in 0..5 {
        let _ = w.svc.sign_in("cw", &wrong, None, None);
    }
    assert!(matches!(w.svc.sign_in("cw", &pw, None, None), Err(Error::TooManyAttempts { .. })));
    w.svc.set_password(&w.admin, "cw", &Password::new("a brand new passphrase").unwrap()).unwrap();
    assert!(w.svc.sign_in("cw", &Password::attempt("a brand new passphrase"), None, None).is_ok());

    // Twenty failures from one address lock that address for everyone behind it.
    for i in 0..20 {
        let _ = w.svc.sign_in_from(Some(here), &format!("guess{i}"), &wrong, None, None);
    }
    let r = w.svc.sign_in_from(Some(here), "cw", &Password::attempt("a brand new passphrase"), None, None);
    assert!(matches!(r, Err(Error::TooManyAttempts { .. })), "{r:?}");
    let elsewhere = "10.0.0.8".parse().ok();
    assert!(
        w.svc.sign_in_from(elsewhere, "cw", &Password::attempt("a brand new passphrase"), None, None).is_ok()
    );
}

#[test]
fn a_tablet_registers_once_with_its_code_within_a_day_and_sign_in_may_require_it() {
    let w = world();
    w.staff("cw", Role::Caseworker, w.u1);
    let pw = Password::attempt(PASSWORD);
    let (tablet, code, expires) =
        w.svc.issue_device_code(&w.admin, &DeviceName::parse("iPad 2").unwrap()).unwrap();
    assert_eq!(expires, mamoru_core::time::Clock::now(&*w.clock).plus(24 * 3600));

    // With the policy on, no sign-in without a registered device, before any password check.
    w.svc.set_device_required(true);
    let before = w.svc.audit_len().unwrap();
    assert!(matches!(w.svc.sign_in("cw", &pw, None, None), Err(Error::DeviceRequired)));
    assert_eq!(w.svc.audit_len().unwrap(), before, "nothing about the account was looked at");
    assert!(
        matches!(w.svc.sign_in("cw", &pw, None, Some(tablet)), Err(Error::Unauthenticated)),
        "a device still waiting for its code is not a registered one"
    );

    let (got, secret) = w.svc.redeem_device_code(&code, None).unwrap();
    assert_eq!(got, tablet);
    let device = w.svc.device_for_secret(&secret).unwrap();
    assert!(w.svc.sign_in("cw", &pw, None, Some(device)).is_ok());
    assert!(matches!(w.svc.redeem_device_code(&code, None), Err(Error::BadCredentials)), "once only");

    // A code not entered within 24 hours is dead.
    let (_, late, _) = w.svc.issue_device_code(&w.admin, &DeviceName::parse("iPad 3").unwrap()).unwrap();
    w.clock.advance(24 * 3600);
    assert!(matches!(w.svc.redeem_device_code(&late, None), Err(Error::BadCredentials)));

    // Guessing codes from one address is throttled like failed sign-ins.
    let here: std::net::IpAddr = "10.0.0.9".parse().unwrap();
    let (_, fresh, _) = w.svc.issue_device_code(&w.admin, &DeviceName::parse("iPad 4").unwrap()).unwrap();
    for _ in 0..20 {
        let _ = w.svc.redeem_device_code("AAAA-BBBB-CCCC", Some(here));
    }
    assert!(matches!(w.svc.redeem_device_code(&fresh, Some(here)), Err(Error::TooManyAttempts { .. })));
    assert!(w.svc.redeem_device_code(&fresh, None).is_ok());
}

#[test]
fn with_the_second_factor_required_a_password_alone_only_enrols_it() {
    let w = world();
    w.staff("cw", Role::Caseworker, w.u1);
    let pw = Password::attempt(PASSWORD);
    let now = || mamoru_core::time::Clock::now(&*w.clock);
    w.svc.set_totp_required(true);

    let (token, info) = w.svc.sign_in("cw", &pw, None, None).unwrap();
    assert!(info.enrolling);
    assert!(matches!(w.svc.session(&token, None), Err(Error::SecondFactorRequired)));
    assert!(matches!(w.svc.peek_session(&token, None), Err(Error::SecondFactorRequired)));
    assert!(w.svc.enrolment_session(&token, None).unwrap().enrolling);

    // Drawing the page again shows the secret begun, not a new one; a restart makes a new one.
    let url = w.svc.totp_enrolment(&token, None, false).unwrap();
    assert_eq!(w.svc.totp_enrolment(&token, None, false).unwrap(), url);
    let url = w.svc.totp_enrolment(&token, None, true).unwrap();
    assert_eq!(w.svc.totp_enrolment(&token, None, false).unwrap(), url);
    let secret = totp::url_secret(&url).unwrap();

    // A second sign-in with the password alone, by someone else, is enrolling too; the first
    // confirmation wins and ends it.
    let (other, _) = w.svc.sign_in("cw", &pw, None, None).unwrap();
    assert!(matches!(w.svc.confirm_enrolment(&token, None, "12345"), Err(Error::Invalid { .. })));
    let info = w.svc.confirm_enrolment(&token, None, &totp::code_at(&secret, now()).unwrap()).unwrap();
    assert!(!info.enrolling);
    assert!(w.svc.session(&token, None).is_ok(), "the enrolling session became a full one");
    assert!(matches!(w.svc.session(&other, None), Err(Error::Unauthenticated)));
    assert!(matches!(w.svc.totp_enrolment(&other, None, true), Err(Error::Unauthenticated)));

    // From now on the code is needed, and a session signed in with it is a full one.
    assert!(matches!(w.svc.sign_in("cw", &pw, None, None), Err(Error::BadCredentials)));
    w.clock.advance(30);
    let (full, info) = w.svc.sign_in("cw", &pw, Some(&totp::code_at(&secret, now()).unwrap()), None).unwrap();
    assert!(!info.enrolling);
    assert!(w.svc.session(&full, None).is_ok());
}

#[test]
fn the_console_sees_each_tablets_state_and_only_an_administrator_sees_sessions() {
    use mamoru_core::service::DeviceState;
    let w = world();
    w.staff("cw", Role::Caseworker, w.u1);
    let head = w.staff("head", Role::Head, w.u1);
    let (used, secret) = w.svc.register_device(&w.admin, &DeviceName::parse("iPad 1").unwrap()).unwrap();
    let (waiting, _, until) =
        w.svc.issue_device_code(&w.admin, &DeviceName::parse("iPad 2").unwrap()).unwrap();
    let (revoked, _) = w.svc.register_device(&w.admin, &DeviceName::parse("iPad 3").unwrap()).unwrap();
    w.svc.change_device(&w.admin, revoked, DeviceChange::Revoke).unwrap();
    let device = w.svc.device_for_secret(&secret).unwrap();
    w.svc.sign_in("cw", &Password::attempt(PASSWORD), None, Some(device)).unwrap();

    let list = w.svc.device_list(&w.admin).unwrap();
    let state = |id| list.iter().find(|d| d.id == id).unwrap();
    assert_eq!(state(used).state, DeviceState::Active);
    assert_eq!(state(used).last_used.as_ref().map(|(_, login)| login.as_str()), Some("cw"));
    assert_eq!(state(waiting).state, DeviceState::Pending { until });
    assert!(matches!(state(revoked).state, DeviceState::Revoked { .. }) && !state(revoked).active());
    assert_eq!(state(used).registered_by, "admin");

    let server = w.svc.server_view(&w.admin).unwrap();
    assert_eq!(server.sessions, 1);
    assert_eq!(server.sessions_by_device, [(Some("iPad 1".to_owned()), 1)]);
    assert_eq!(server.overdue.len(), 2, "one line per unit");
    let other = w.svc.server_view(&head).unwrap();
    assert_eq!((other.sessions, other.sessions_by_device.len(), other.overdue.len()), (0, 0, 0));

    // A day later the code has expired (and the session with it).
    w.clock.advance(24 * 3600 + 1);
    let later = w.svc.device_list(&w.admin).unwrap();
    assert_eq!(later.iter().find(|d| d.id == waiting).unwrap().state, DeviceState::CodeExpired);
    assert!(matches!(w.svc.device_list(&head), Err(Error::Forbidden { .. })));
}

#[test]
fn audit_entries_record_the_client_address() {
    use std::net::IpAddr;
    let w = world();
    let cw = w.staff("cw", Role::Caseworker, w.u1);
    let child = w.child(&cw, "所在", "確認", "しょざい", "かくにん", "2016-04-01");
    let office: IpAddr = "192.0.2.7".parse().unwrap();
    let roaming: IpAddr = "2001:db8::42".parse().unwrap();
    let pw = Password::attempt(PASSWORD);
    let (token, info) = w.svc.sign_in_from(Some(office), "cw", &pw, None, None).unwrap();
    assert_eq!(info.actor.address(), Some(office));
    // The tablet moved to another cell: each request is recorded from where it came.
    let session = w.svc.session(&token, Some(roaming)).unwrap();
    w.svc.child(&session.actor, child).unwrap();
    w.svc.sign_out(&token, Some(office)).unwrap();
    // Ended once: a second sign-out (or one with a token never issued) is unauthenticated.
    assert!(matches!(w.svc.sign_out(&token, Some(office)), Err(Error::Unauthenticated)));
    assert!(matches!(w.svc.sign_out("no-such-token", None), Err(Error::Unauthenticated)));
    // A session that ran out (not yet swept) is no session to sign out of either.
    let (stale, _) = w.svc.sign_in_from(Some(office), "cw", &pw, None, None).unwrap();
    w.clock.advance(mamoru_core::service::IDLE_TIMEOUT + 1);
    assert!(matches!(w.svc.sign_out(&stale, Some(office)), Err(Error::Unauthenticated)));
    let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFictionalConsoleKeyForAddressTest00000000";
    assert!(w.svc.console_sign_in("cw", key, Some(office)).is_err());
    let log = w.svc.audit_log(&w.admin, 1, usize::MAX).unwrap();
    let address = |action: &str| {
        log.iter().find(|e| e.action == action).unwrap_or_else(|| unreachable!("no {action}")).address.clone()
    };
    assert_eq!(address("sign_in").as_deref(), Some("192.0.2.7"));
    assert_eq!(address("read_child").as_deref(), Some("2001:db8::42"));
    assert_eq!(address("sign_out").as_deref(), Some("192.0.2.7"));
    assert_eq!(address("console_sign_in").as_deref(), Some("192.0.2.7"));
    // The local operator has no address, and its entry is written without the field: the
    // entries of a log written before addresses were recorded keep their hashes.
    let local = log.iter().find(|e| e.address.is_none()).unwrap();
    let json = serde_json::to_string(local).unwrap();
    assert!(!json.contains("address"), "{json}");
    // (reading the log was audited too)
    assert_eq!(
        w.svc.verify_audit().unwrap(),
        mamoru_core::audit::Verdict::Intact { entries: log.len() as u64 + 1 }
    );
    let mut csv = Vec::new();
    w.svc.export_audit(&w.admin, &mamoru_core::service::AuditFilter::default(), &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",接続元"), "{text}");
    assert!(text.lines().any(|l| l.contains("read_child") && l.ends_with(",2001:db8::42")), "{text}");

    // Five wrong passwords lock the login; the lock's entry says where the attempts came from.
    let wrong = Password::attempt("not the password");
    for _ in 0..5 {
        assert!(w.svc.sign_in_from(Some(office), "cw", &wrong, None, None).is_err());
    }
    let log = w.svc.audit_log(&w.admin, 1, usize::MAX).unwrap();
    let locked = log.iter().find(|e| e.action == "sign_in_locked").unwrap_or_else(|| unreachable!("no lock"));
    assert_eq!(locked.address.as_deref(), Some("192.0.2.7"));
}
