//! Runs one console session over a byte stream: keys come in as bytes, frames go out as ANSI
//! escape sequences. The SSH channel and the local terminal both use this, so both get the same
//! app. The terminal is driven as a fixed viewport that the stream's size messages resize; raw
//! mode is the client's business (OpenSSH puts its own terminal in raw mode), never ours.

use std::io::Write;
use std::time::Duration;

use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::layout::Rect;
use ratatui::prelude::CrosstermBackend;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tokio::sync::mpsc;

use crate::app::{App, Flow, Level};
use crate::draw::draw;
use crate::keys::Parser;

/// What arrives from the client.
#[derive(Debug)]
pub enum Input {
    Bytes(Vec<u8>),
    /// Columns, rows.
    Resize(u16, u16),
    Close,
}

/// Collects what the backend writes and hands it over on flush.
struct Sink {
    buf: Vec<u8>,
    out: mpsc::UnboundedSender<Vec<u8>>,
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.out
            .send(std::mem::take(&mut self.buf))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "console client gone"))
    }
}

/// A terminal size as the client reports it; 0×0 (some clients' pty-req) means 80×24.
#[must_use]
pub fn area(cols: u32, rows: u32) -> Rect {
    let clamp =
        |v: u32, default: u16| if v == 0 { default } else { u16::try_from(v.min(1000)).unwrap_or(default) };
    Rect::new(0, 0, clamp(cols, 80), clamp(rows, 24))
}

/// How often the dashboard and the live feed refresh.
const TICK: Duration = Duration::from_secs(1);
/// A lone Escape is the Escape key when nothing follows it this soon.
const ESCAPE_WAIT: Duration = Duration::from_millis(60);

/// Runs the console's store and file work (a key's action, a refresh) where it may block: on a
/// multi-threaded runtime the worker hands its other tasks (the web server's) to another thread
/// first, so a whole-log export or a backup run from the console does not stall them.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Runs `app` until the user quits, the stream closes, or `alive` says the user may no longer
/// be here (account disabled, key removed). Output goes to `out` in chunks, one per frame.
pub async fn run(
    mut app: App,
    mut input: mpsc::Receiver<Input>,
    out: mpsc::UnboundedSender<Vec<u8>>,
    size: Rect,
    alive: impl Fn() -> bool,
) -> std::io::Result<()> {
    let mut sink = Sink { buf: Vec::new(), out };
    execute!(sink, terminal::EnterAlternateScreen, cursor::Hide, terminal::Clear(terminal::ClearType::All))?;
    let backend = CrosstermBackend::new(sink);
    let mut term = Terminal::with_options(backend, TerminalOptions { viewport: Viewport::Fixed(size) })?;
    let mut parser = Parser::default();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let result = loop {
        term.draw(|f| draw(&app.state, f))?;
        let escape_wait = tokio::time::sleep(ESCAPE_WAIT);
        let flow = tokio::select! {
            msg = input.recv() => match msg {
                None | Some(Input::Close) => break Ok(()),
                Some(Input::Resize(cols, rows)) => {
                    let rect = area(cols.into(), rows.into());
                    // Resizing clears the viewport. Never `Terminal::clear`: it asks the server's
                    // own terminal for the cursor position.
                    term.resize(rect)?;
                    Flow::Continue
                }
                Some(Input::Bytes(bytes)) => {
                    if !blocking(&alive) {
                        app.state.message = Some((Level::Error, "このアカウントではもう利用できません".into()));
                        term.draw(|f| draw(&app.state, f))?;
                        break Ok(());
                    }
                    blocking(|| {
                        for key in parser.feed(&bytes) {
                            if app.handle(key) == Flow::Quit {
                                return Flow::Quit;
                            }
                        }
                        Flow::Continue
                    })
                }
            },
            () = escape_wait, if parser.is_pending() => match parser.flush_escape() {
                Some(key) => blocking(|| app.handle(key)),
                None => Flow::Continue,
            },
            _ = tick.tick() => {
                blocking(|| app.tick());
                Flow::Continue
            }
        };
        if flow == Flow::Quit {
            break Ok(());
        }
    };
    let backend = term.backend_mut();
    execute!(backend, cursor::Show, terminal::LeaveAlternateScreen)?;
    result
}
