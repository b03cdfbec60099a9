//! Japanese search keys: the folding that lets 高崎 find 髙﨑, ひらがな find カタカナ and ｱｲｳ find アイウ,
//! and the n-grams the store indexes. Search keys only: stored text is never rewritten.

use unicode_normalization::UnicodeNormalization;

/// 異体字 folded to the common form. NFKC leaves these alone (most are unified ideographs, not
/// compatibility characters), so they are folded here. Extend with care: every entry widens matches.
const VARIANTS: &[(char, char)] = &[
    ('髙', '高'),
    ('﨑', '崎'),
    ('嵜', '崎'),
    ('碕', '崎'),
    ('邊', '辺'),
    ('邉', '辺'),
    ('齋', '斎'),
    ('齊', '斎'),
    ('斉', '斎'),
    ('濵', '浜'),
    ('濱', '浜'),
    ('櫻', '桜'),
    ('德', '徳'),
    ('澤', '沢'),
    ('廣', '広'),
    ('國', '国'),
    ('嶋', '島'),
    ('嶌', '島'),
    ('榮', '栄'),
    ('壽', '寿'),
    ('惠', '恵'),
    ('眞', '真'),
    ('藏', '蔵'),
    ('實', '実'),
    ('曾', '曽'),
    ('條', '条'),
    ('瀧', '滝'),
    ('靜', '静'),
    ('淺', '浅'),
    ('關', '関'),
    ('冨', '富'),
    ('龍', '竜'),
    ('籐', '藤'),
    ('槇', '槙'),
    ('舘', '館'),
    ('驒', '騨'),
    ('髮', '髪'),
    ('𠮷', '吉'),
    ('栁', '柳'),
    ('﨔', '欅'),
    ('凜', '凛'),
    ('渕', '淵'),
    ('峯', '峰'),
    // Marks NFKC keeps: wave dash, minus sign, and the long vowel variants.
    ('〜', '~'),
    ('−', '-'),
    ('―', '-'),
    ('‐', '-'),
];

fn fold_char(c: char) -> Option<char> {
    let c = VARIANTS.iter().find(|(from, _)| *from == c).map_or(c, |(_, to)| *to);
    // Katakana to hiragana: U+30A1..=U+30F6 sit 0x60 above their hiragana.
    let c =
        if ('\u{30A1}'..='\u{30F6}').contains(&c) { char::from_u32(c as u32 - 0x60).unwrap_or(c) } else { c };
    if c.is_whitespace() || matches!(c, '・' | '･' | '.' | ',' | '、' | '。' | '-' | '~' | '(' | ')') {
        return None;
    }
    Some(c.to_ascii_lowercase())
}

/// The search key of a name, furigana or free text: NFKC, 異体字 and kana folded, spaces and
/// separators removed, ASCII lower-cased.
#[must_use]
pub fn normalize(text: &str) -> String {
    text.nfkc().filter_map(fold_char).collect()
}

/// Only the digits of a phone number (full-width digits included).
#[must_use]
pub fn phone_digits(text: &str) -> String {
    text.nfkc().filter(char::is_ascii_digit).collect()
}

/// The grams the index holds for one key: every character and every pair of neighbours.
#[must_use]
pub fn grams(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut out: Vec<String> = chars.iter().map(char::to_string).collect();
    out.extend(chars.windows(2).map(|w| w.iter().collect()));
    out.sort();
    out.dedup();
    out
}

/// The grams a query must all have: its pairs, or its one character.
#[must_use]
pub fn query_grams(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() == 1 {
        return vec![key.to_owned()];
    }
    let mut out: Vec<String> = chars.windows(2).map(|w| w.iter().collect()).collect();
    out.sort();
    out.dedup();
    out
}

/// Edit distance between two keys, in characters (for the duplicate check).
#[must_use]
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Whether two furigana keys are close enough to ask "is this the same child?".
#[must_use]
pub fn similar_kana(a: &str, b: &str) -> bool {
    let (a, b) = (normalize(a), normalize(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let allowed = if a.chars().count().max(b.chars().count()) >= 6 { 2 } else { 1 };
    a == b || edit_distance(&a, &b) <= allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pair must fold to the same key.
    const SAME: &[(&str, &str)] = &[
        ("髙橋", "高橋"),
        ("髙﨑", "高崎"),
        ("山﨑", "山崎"),
        ("渡邊", "渡辺"),
        ("渡邉", "渡辺"),
        ("齋藤", "斎藤"),
        ("齊藤", "斎藤"),
        ("濵田", "浜田"),
        ("濱田", "浜田"),
        ("櫻井", "桜井"),
        ("德永", "徳永"),
        ("澤田", "沢田"),
        ("廣瀬", "広瀬"),
        ("國分", "国分"),
        ("嶋田", "島田"),
        ("嶌田", "島田"),
        ("榮", "栄"),
        ("瀧本", "滝本"),
        ("淺野", "浅野"),
        ("冨田", "富田"),
        ("カタカナ", "かたかな"),
        ("タナカ ハナコ", "たなかはなこ"),
        ("ヴァイオリン", "ゔぁいおりん"),
        ("ｱｲｳ", "あいう"),
        ("ﾀﾞｲｽｹ", "だいすけ"),
        ("ﾊﾟﾊﾟ", "ぱぱ"),
        ("ＡＢＣ", "abc"),
        ("ABC", "abc"),
        ("１２３", "123"),
        ("山田　花子", "山田花子"),
        ("山田 花子", "山田花子"),
        ("やまだ・はなこ", "やまだはなこ"),
        ("㈱", "(株)"),
        ("ｶﾞｰﾃﾞﾝ", "がーでん"),
        ("マリー＝アン", "まりー=あん"),
        ("ｼﾞｮｰｼﾞ", "じょーじ"),
        ("佐々木", "佐々木"),
        ("  髙橋  ", "高橋"),
        ("ＴＡＮＡＫＡ", "tanaka"),
        ("ｹﾝｲﾁ", "ケンイチ"),
        ("〜", "～"),
        ("ﾍﾟﾝ", "ペン"),
    ];

    /// Each pair must stay apart: folding must not make different names equal.
    const DIFFERENT: &[(&str, &str)] =
        &[("高橋", "高梁"), ("さとう", "さいとう"), ("はな", "ばな"), ("つ", "っ")];

    #[test]
    fn folds_the_table() {
        assert!(SAME.len() >= 40);
        for (a, b) in SAME {
            assert_eq!(normalize(a), normalize(b), "{a} / {b}");
        }
        for (a, b) in DIFFERENT {
            assert_ne!(normalize(a), normalize(b), "{a} / {b}");
        }
    }

    #[test]
    fn phone_digits_ignore_punctuation_and_width() {
        assert_eq!(phone_digits("000-1234-5678"), "00012345678");
        assert_eq!(phone_digits("（０００）１２３４－５６７８"), "00012345678");
    }

    #[test]
    fn grams_and_similarity() {
        assert_eq!(query_grams("た"), vec!["た"]);
        assert_eq!(query_grams("たなか"), vec!["たな", "なか"]);
        assert!(grams("たなか").contains(&"な".to_owned()));
        assert!(similar_kana("やまざき ゆいな", "ヤマサキ ユイナ"));
        assert!(!similar_kana("やまざき", "たなか"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
