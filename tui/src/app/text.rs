//! Texts the screens and operations share: a console key as people tell keys apart, a time in
//! file names.

use mamoru_core::time::Timestamp;

/// A console key as people can tell keys apart: its type, the end of its data, its comment.
pub(super) fn key_label(key: &str) -> String {
    let mut parts = key.split_whitespace();
    let algo = parts.next().unwrap_or_default();
    let data = parts.next().unwrap_or_default();
    let tail = data.get(data.len().saturating_sub(8)..).unwrap_or_default();
    let comment = parts.collect::<Vec<_>>().join(" ");
    format!("{algo} …{tail} {comment}").trim_end().to_owned()
}
/// `20261124-210530` in JST, for file names.
pub(super) fn file_time(t: Timestamp) -> String {
    let s = t.to_jst_string();
    format!("{}{}{}-{}{}{}", &s[0..4], &s[5..7], &s[8..10], &s[11..13], &s[14..16], &s[17..19])
}
