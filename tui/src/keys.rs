//! Keys from a terminal's byte stream (an SSH channel or a local tty in raw mode). Only what the
//! console uses: printable text (UTF-8, so a Japanese IME's output arrives whole), Enter, Tab,
//! Backspace, Escape, arrows, Page Up/Down, Home/End and Ctrl-C. An escape sequence split across
//! two reads is kept until the rest arrives; a lone Escape is told apart by `flush_escape`, which
//! the caller runs when no more bytes came for a moment.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Tab,
    BackTab,
    Backspace,
    Esc,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Delete,
    CtrlC,
}

/// Turns bytes into keys, keeping an unfinished sequence for the next read.
#[derive(Debug, Default)]
pub struct Parser {
    pending: Vec<u8>,
}

/// Bytes that cannot start or continue anything the console understands are dropped; a pending
/// buffer never grows past this.
const MAX_PENDING: usize = 16;

impl Parser {
    /// Feeds bytes; returns the complete keys they finish.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Key> {
        self.pending.extend_from_slice(bytes);
        let mut keys = Vec::new();
        let mut at = 0;
        while at < self.pending.len() {
            match parse_one(&self.pending[at..]) {
                Parsed::Key(key, used) => {
                    keys.push(key);
                    at += used;
                }
                Parsed::Skip(used) => at += used,
                Parsed::Incomplete => break,
            }
        }
        self.pending.drain(..at);
        if self.pending.len() > MAX_PENDING {
            self.pending.clear();
        }
        keys
    }

    /// Whether an unfinished sequence is waiting.
    #[must_use]
    pub fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Called when the input went quiet: a pending lone Escape was the Escape key; anything else
    /// pending was garbage.
    pub fn flush_escape(&mut self) -> Option<Key> {
        let was_escape = self.pending == [0x1b];
        self.pending.clear();
        was_escape.then_some(Key::Esc)
    }
}

enum Parsed {
    Key(Key, usize),
    Skip(usize),
    Incomplete,
}

fn parse_one(b: &[u8]) -> Parsed {
    match b[0] {
        b'\r' => {
            // Some terminals send CR LF for Enter.
            let used = if b.get(1) == Some(&b'\n') { 2 } else { 1 };
            Parsed::Key(Key::Enter, used)
        }
        b'\n' => Parsed::Key(Key::Enter, 1),
        b'\t' => Parsed::Key(Key::Tab, 1),
        0x7f | 0x08 => Parsed::Key(Key::Backspace, 1),
        0x03 => Parsed::Key(Key::CtrlC, 1),
        0x1b => escape(b),
        c if c < 0x20 => Parsed::Skip(1),
        _ => utf8(b),
    }
}

fn escape(b: &[u8]) -> Parsed {
    let Some(&second) = b.get(1) else { return Parsed::Incomplete };
    if second != b'[' && second != b'O' {
        // Escape followed by something else: the Escape key, then that.
        return Parsed::Key(Key::Esc, 1);
    }
    // CSI or SS3: parameters (digits and ';') then one final byte.
    let mut i = 2;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_digit() || c == b';' {
            i += 1;
            continue;
        }
        let params = &b[2..i];
        let key = match (c, params) {
            (b'A', _) => Some(Key::Up),
            (b'B', _) => Some(Key::Down),
            (b'C', _) => Some(Key::Right),
            (b'D', _) => Some(Key::Left),
            (b'H', _) | (b'~', b"1" | b"7") => Some(Key::Home),
            (b'F', _) | (b'~', b"4" | b"8") => Some(Key::End),
            (b'Z', _) => Some(Key::BackTab),
            (b'~', b"3") => Some(Key::Delete),
            (b'~', b"5") => Some(Key::PageUp),
            (b'~', b"6") => Some(Key::PageDown),
            _ => None,
        };
        return match key {
            Some(k) => Parsed::Key(k, i + 1),
            None => Parsed::Skip(i + 1),
        };
    }
    if i > MAX_PENDING { Parsed::Skip(i) } else { Parsed::Incomplete }
}

fn utf8(b: &[u8]) -> Parsed {
    let len = match b[0] {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Parsed::Skip(1),
    };
    if b.len() < len {
        return Parsed::Incomplete;
    }
    match std::str::from_utf8(&b[..len]).ok().and_then(|s| s.chars().next()) {
        Some(c) => Parsed::Key(Key::Char(c), len),
        None => Parsed::Skip(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_text_and_japanese_arrive_as_keys() {
        let mut p = Parser::default();
        let keys = p.feed("\x1b[Aa\x1b[B端末\r\x1bOC".as_bytes());
        assert_eq!(
            keys,
            vec![
                Key::Up,
                Key::Char('a'),
                Key::Down,
                Key::Char('端'),
                Key::Char('末'),
                Key::Enter,
                Key::Right
            ]
        );
        assert!(!p.is_pending());
    }

    #[test]
    fn a_sequence_split_across_reads_is_completed() {
        let mut p = Parser::default();
        assert!(p.feed(b"\x1b[").is_empty());
        assert!(p.is_pending());
        assert_eq!(p.feed(b"6~"), vec![Key::PageDown]);
        let bytes = "職".as_bytes();
        assert!(p.feed(&bytes[..1]).is_empty());
        assert_eq!(p.feed(&bytes[1..]), vec![Key::Char('職')]);
    }

    #[test]
    fn a_lone_escape_is_the_escape_key_once_input_goes_quiet() {
        let mut p = Parser::default();
        assert!(p.feed(b"\x1b").is_empty());
        assert_eq!(p.flush_escape(), Some(Key::Esc));
        assert_eq!(p.flush_escape(), None);
        // Escape then a letter (Alt-x) is Escape, then x.
        assert_eq!(p.feed(b"\x1bx"), vec![Key::Esc, Key::Char('x')]);
    }

    #[test]
    fn unknown_sequences_and_garbage_are_dropped() {
        let mut p = Parser::default();
        assert_eq!(p.feed(b"\x1b[99X\x01\xffq"), vec![Key::Char('q')]);
        assert!(!p.is_pending());
    }
}
