//! The TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of skew), the
//! otpauth URL an authenticator app scans, and the check that refuses a code used before.

use totp_rs::{Algorithm, Secret, Totp};

use crate::error::{Error, Result};
use crate::time::Timestamp;

fn totp(secret: &[u8], account: &str) -> Result<Totp> {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::from(secret.to_vec()))
        .with_issuer(Some("Mamoru"))
        .with_account_name(account)
        .build()
        .map_err(|e| Error::Corrupt(format!("second factor: {e}")))
}

fn bytes(hex: &str) -> Result<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| Error::Corrupt("second-factor secret".into()))
}

/// A new random secret (160 bits), hex.
pub fn new_secret() -> Result<String> {
    let mut raw = [0u8; 20];
    getrandom::fill(&mut raw).map_err(|e| Error::Corrupt(format!("no randomness: {e}")))?;
    Ok(crate::to_hex(&raw))
}

/// The `otpauth://` URL (shown once, as a QR code, at enrolment).
pub fn url(secret_hex: &str, account: &str) -> Result<String> {
    totp(&bytes(secret_hex)?, account)?.to_url().map_err(|e| Error::Corrupt(format!("second factor: {e}")))
}

/// The secret of an `otpauth://` URL as a person types it into an authenticator app that
/// cannot scan: base32, in groups of four.
#[must_use]
pub fn url_key(url: &str) -> Option<String> {
    let b32 = url.split_once("secret=")?.1.split('&').next()?;
    let groups: Vec<String> = b32
        .trim_end_matches('=')
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    Some(groups.join(" "))
}

/// The hex secret of an `otpauth://` URL (what an authenticator app keeps; tests use it).
pub fn url_secret(url: &str) -> Result<String> {
    let bad = || Error::invalid("otpauth", "not an otpauth URL with a base32 secret");
    let b32 = url.split_once("secret=").ok_or_else(bad)?.1.split('&').next().ok_or_else(bad)?;
    let secret = Secret::try_from_base32(b32).map_err(|_| bad())?;
    Ok(crate::to_hex(&secret))
}

/// The time step a code is valid for at `now`, if it is.
pub fn check(secret_hex: &str, code: &str, now: Timestamp) -> Result<Option<u64>> {
    let code: String = code.chars().filter(char::is_ascii_digit).collect();
    let now = u64::try_from(now.0).unwrap_or(0);
    Ok(totp(&bytes(secret_hex)?, "x")?.check(&code, now))
}

/// The code for `at` (tests and the demo).
pub fn code_at(secret_hex: &str, at: Timestamp) -> Result<String> {
    Ok(totp(&bytes(secret_hex)?, "x")?.generate(u64::try_from(at.0).unwrap_or(0)).to_string())
}
