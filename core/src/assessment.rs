//! Assessment sheets as versioned data: questions and a decision flow, so a new national tool is
//! added by storing a sheet, not by changing code. The result is computed from the answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::error::Why;
use crate::ids::SheetId;
use crate::record::Record;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub text: String,
}

/// One step of the flow: it applies when every `all_yes` question and at least one `any_yes`
/// question (if any are listed) were answered yes. Rules are tried in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    #[serde(default)]
    pub all_yes: Vec<String>,
    #[serde(default)]
    pub any_yes: Vec<String>,
    pub result: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentSheet {
    pub key: String,
    pub name: String,
    pub version: u32,
    pub questions: Vec<Question>,
    pub rules: Vec<Rule>,
    pub default_result: String,
    pub default_label: String,
}

impl Record for AssessmentSheet {
    type Id = SheetId;
    const SCHEMA: u16 = 1;
}

impl AssessmentSheet {
    /// The result code and label for a complete set of answers; an unanswered or unknown question
    /// is an error, never a silent "no".
    pub fn evaluate(&self, answers: &BTreeMap<String, bool>) -> Result<(String, String), Error> {
        for q in &self.questions {
            if !answers.contains_key(&q.id) {
                return Err(Error::invalid("answers", Why::Unanswered(q.id.clone())));
            }
        }
        if let Some(extra) = answers.keys().find(|k| !self.questions.iter().any(|q| &q.id == *k)) {
            return Err(Error::invalid("answers", Why::NoSuchQuestion(extra.clone())));
        }
        let yes = |id: &String| answers.get(id).copied().unwrap_or(false);
        for rule in &self.rules {
            let all = rule.all_yes.iter().all(yes);
            let any = rule.any_yes.is_empty() || rule.any_yes.iter().any(yes);
            if all && any {
                return Ok((rule.result.clone(), rule.label.clone()));
            }
        }
        Ok((self.default_result.clone(), self.default_label.clone()))
    }
}

/// 一時保護決定に向けてのアセスメントシート (子ども虐待対応の手引き, 第5章).
#[must_use]
pub fn protection_sheet() -> AssessmentSheet {
    let q = |id: &str, text: &str| Question { id: id.to_owned(), text: text.to_owned() };
    let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    AssessmentSheet {
        key: "protection_decision".to_owned(),
        name: "一時保護決定に向けてのアセスメントシート".to_owned(),
        version: 1,
        questions: vec![
            q("q1", "当事者（子ども又は保護者）が保護を求めている"),
            q("q2", "当事者の訴える状況が差し迫っている"),
            q("q3", "すでに虐待により重大な結果が生じている"),
            q("q4", "次に何か起これば、重大な結果が生じる可能性が高い"),
            q("q5", "虐待が繰り返される可能性が高い"),
            q("q6", "虐待の影響と思われる症状が子どもに表れている"),
            q("q7", "保護者に虐待につながるリスク要因がある"),
        ],
        rules: vec![
            Rule {
                all_yes: vec![],
                any_yes: ids(&["q1", "q2", "q3"]),
                result: "emergency".to_owned(),
                label: "緊急一時保護の必要性を検討".to_owned(),
            },
            Rule {
                all_yes: ids(&["q4", "q5"]),
                any_yes: vec![],
                result: "protection".to_owned(),
                label: "次の虐待が発生しないうちに保護する必要性を検討".to_owned(),
            },
            Rule {
                all_yes: vec![],
                any_yes: ids(&["q4", "q5", "q6", "q7"]),
                result: "intervention".to_owned(),
                label: "虐待の程度判断と並行して緊急介入・集中的援助の必要性を検討".to_owned(),
            },
        ],
        default_result: "other".to_owned(),
        default_label: "その他の援助を検討".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(yes: &[&str]) -> BTreeMap<String, bool> {
        (1..=7)
            .map(|i| {
                let id = format!("q{i}");
                let v = yes.contains(&id.as_str());
                (id, v)
            })
            .collect()
    }

    #[test]
    fn the_flow_points_where_the_guide_does() {
        let sheet = protection_sheet();
        let r = |yes: &[&str]| sheet.evaluate(&answers(yes)).unwrap().0;
        assert_eq!(r(&["q1"]), "emergency");
        assert_eq!(r(&["q3", "q7"]), "emergency");
        assert_eq!(r(&["q4", "q5"]), "protection");
        assert_eq!(r(&["q4"]), "intervention");
        assert_eq!(r(&["q6"]), "intervention");
        assert_eq!(r(&[]), "other");
    }

    #[test]
    fn incomplete_answers_are_refused() {
        let sheet = protection_sheet();
        let mut a = answers(&[]);
        a.remove("q7");
        assert!(sheet.evaluate(&a).is_err());
        let mut a = answers(&[]);
        a.insert("q8".into(), true);
        assert!(sheet.evaluate(&a).is_err());
    }
}
