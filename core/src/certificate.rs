//! The server certificate's expiry, as the console, the CLI and (later) the prober judge it. Core
//! reads no certificate (the binary does); it holds the rule: renew within 60 days of the end, so
//! that a holiday season or a slow city approval never lets the tablets' connection fail.

use crate::time::Timestamp;

/// Days before its end from which a certificate is to be renewed.
pub const RENEW_WITHIN_DAYS: i64 = 60;

/// Where a certificate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// More than `RENEW_WITHIN_DAYS` whole days left.
    Valid { days_left: i64 },
    /// Renew now: its end is within `RENEW_WITHIN_DAYS` days.
    RenewSoon { days_left: i64 },
    /// Past its end: the tablets refuse the server.
    Expired,
}

/// How a certificate valid until `not_after` stands at `now`; whole days left, rounded down.
#[must_use]
pub fn expiry(not_after: Timestamp, now: Timestamp) -> Expiry {
    if now.0 >= not_after.0 {
        return Expiry::Expired;
    }
    let days_left = (not_after.0 - now.0) / 86_400;
    if days_left < RENEW_WITHIN_DAYS { Expiry::RenewSoon { days_left } } else { Expiry::Valid { days_left } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_to_be_renewed_from_sixty_days_before_its_end() {
        let end = Timestamp(1_900_000_000);
        let before = |days: i64, secs: i64| expiry(end, Timestamp(end.0 - days * 86_400 - secs));
        assert_eq!(before(60, 0), Expiry::Valid { days_left: 60 });
        assert_eq!(before(59, 86_399), Expiry::RenewSoon { days_left: 59 });
        assert_eq!(before(0, 1), Expiry::RenewSoon { days_left: 0 });
        assert_eq!(before(0, 0), Expiry::Expired);
        assert_eq!(before(-3, 0), Expiry::Expired);
        assert_eq!(before(396, 0), Expiry::Valid { days_left: 396 });
    }
}
