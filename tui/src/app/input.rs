//! What a key does in each dialog (a question, a line of text, a form).

use super::{App, Dialog};
use crate::keys::Key;

impl App {
    pub(super) fn dialog_key(&mut self, dialog: Dialog, key: Key) {
        match dialog {
            Dialog::Confirm { question, op } => match key {
                Key::Char('y' | 'Y') => self.run(op),
                Key::Char('n' | 'N') | Key::Esc | Key::CtrlC => self.info("取り消しました"),
                _ => self.state.dialog = Some(Dialog::Confirm { question, op }),
            },
            Dialog::Input { prompt, mut text, entry } => match key {
                Key::Enter => self.submit(entry, text.trim()),
                Key::Esc | Key::CtrlC => self.info("取り消しました"),
                Key::Backspace => {
                    text.pop();
                    self.state.dialog = Some(Dialog::Input { prompt, text, entry });
                }
                Key::Char(c) => {
                    if text.chars().count() < 400 {
                        text.push(c);
                    }
                    self.state.dialog = Some(Dialog::Input { prompt, text, entry });
                }
                _ => self.state.dialog = Some(Dialog::Input { prompt, text, entry }),
            },
            Dialog::Form { title, mut fields, mut focus, form, error } => {
                let last = fields.len().saturating_sub(1);
                match key {
                    Key::Enter => {
                        let texts: Vec<String> = fields.iter().map(|f| f.text.trim().to_owned()).collect();
                        if let Err(reason) = self.submit_form(&form, &texts) {
                            self.state.dialog =
                                Some(Dialog::Form { title, fields, focus, form, error: Some(reason) });
                        }
                        return;
                    }
                    Key::Esc | Key::CtrlC => {
                        self.info("取り消しました");
                        return;
                    }
                    Key::Tab | Key::Down => focus = if focus >= last { 0 } else { focus + 1 },
                    Key::BackTab | Key::Up => focus = if focus == 0 { last } else { focus - 1 },
                    Key::Backspace => {
                        if let Some(f) = fields.get_mut(focus) {
                            f.text.pop();
                        }
                    }
                    Key::Char(c) => {
                        if let Some(f) = fields.get_mut(focus)
                            && f.text.chars().count() < 200
                        {
                            f.text.push(c);
                        }
                    }
                    _ => {}
                }
                self.state.dialog = Some(Dialog::Form { title, fields, focus, form, error });
            }
            Dialog::Shown { .. } => {}
        }
    }
}
