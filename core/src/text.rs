//! What a stored text may hold. Names and free texts take any printable character, line breaks
//! and tabs; never a control character (NUL, the other C0 and C1 controls, DEL) nor a bidi
//! override or isolate, which would let a name read differently on screen than it is stored
//! (a reversed surname in a list, a report line that hides its tail). Checked on every record
//! a write stores, so no command and no front-end can forget it.

use crate::error::{Error, Result, Why};

/// Whether `c` may not be stored in a text.
#[must_use]
pub fn forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Refuses `text` if it holds a forbidden character, naming `field`.
pub fn check(field: &'static str, text: &str) -> Result<()> {
    match text.chars().find(|c| forbidden(*c)) {
        Some(c) => Err(Error::invalid(field, Why::ControlCharacter(u32::from(c)))),
        None => Ok(()),
    }
}

/// Checks a record as it is about to be stored (its JSON): the first string holding a
/// forbidden character is refused, named by its field. The common case, a clean record, is one
/// pass over the bytes; only a suspect record is parsed to find the field.
pub fn check_record(json: &[u8]) -> Result<()> {
    if !suspect(json) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else { return Ok(()) };
    match first_forbidden(&value, "text") {
        Some((field, c)) => Err(Error::invalid(field_name(field), Why::ControlCharacter(u32::from(c)))),
        None => Ok(()),
    }
}

/// A record's field name as the `'static` name errors carry. Field names come from the records'
/// own definitions, a few hundred at most: each is kept once. Past a bound (a map keyed by
/// something else), the text is called `text`.
fn field_name(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(known) = names.iter().find(|n| **n == name) {
        return known;
    }
    if names.len() >= 1000 || name.len() > 64 {
        return "text";
    }
    let kept: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.push(kept);
    kept
}

/// Whether the encoded JSON may hold a forbidden character: an escape other than `\n`, `\r`,
/// `\t`, `\"`, `\\` and `\/` (serde escapes controls as `\u00XX`, `\b` or `\f`), or the raw bytes
/// of DEL, a C1 control or a bidi override or isolate.
fn suspect(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'\\' => {
                if !matches!(json.get(i + 1), Some(b'n' | b'r' | b't' | b'"' | b'\\' | b'/')) {
                    return true;
                }
                i += 2;
                continue;
            }
            0x7F => return true,
            0xC2 if json.get(i + 1).is_some_and(|b| (0x80..=0x9F).contains(b)) => return true,
            0xE2 if json.get(i + 1) == Some(&0x80)
                && json.get(i + 2).is_some_and(|b| (0xAA..=0xAE).contains(b)) =>
            {
                return true;
            }
            0xE2 if json.get(i + 1) == Some(&0x81)
                && json.get(i + 2).is_some_and(|b| (0xA6..=0xA9).contains(b)) =>
            {
                return true;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// The innermost field name holding the first string with a forbidden character, and it.
fn first_forbidden<'v>(value: &'v serde_json::Value, field: &'v str) -> Option<(&'v str, char)> {
    match value {
        serde_json::Value::String(s) => s.chars().find(|c| forbidden(*c)).map(|c| (field, c)),
        serde_json::Value::Array(items) => items.iter().find_map(|v| first_forbidden(v, field)),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| first_forbidden(v, k)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(json: &str) -> Option<(String, u32)> {
        match check_record(json.as_bytes()) {
            Ok(()) => None,
            Err(Error::Invalid { field, reason: Why::ControlCharacter(c) }) => Some((field.to_owned(), c)),
            Err(e) => unreachable!("{e:?}"),
        }
    }

    #[test]
    fn control_characters_and_bidi_overrides_are_refused_naming_the_field() {
        let json = |s: &str| {
            serde_json::json!({"id": 1, "body": {"family_name": "山田", "note": s, "members": [{"name": "太郎"}]}}).to_string()
        };
        assert_eq!(refused(&json("line one\nline two\r\n\tindented 「引用」 \\ \" / é ©")), None);
        for (c, code) in [
            ('\0', 0),
            ('\u{7}', 7),
            ('\u{8}', 8),
            ('\u{C}', 0xC),
            ('\u{1B}', 0x1B),
            ('\u{7F}', 0x7F),
            ('\u{85}', 0x85),
            ('\u{202E}', 0x202E),
            ('\u{2066}', 0x2066),
        ] {
            assert_eq!(refused(&json(&format!("a{c}b"))), Some(("note".into(), code)), "U+{code:04X}");
        }
        let nested = serde_json::json!({"body": {"members": [{"name": "太\u{202E}郎"}]}}).to_string();
        assert_eq!(refused(&nested), Some(("name".into(), 0x202E)));
        // Characters that only look suspicious in bytes are fine: ‐ (E2 80 90), ※ (E2 80 BB).
        assert_eq!(refused(&json("A‐B ※")), None);
    }
}
