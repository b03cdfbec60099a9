//! A real headless Chromium driven over the `DevTools` protocol. The protocol runs over a pipe
//! (`--remote-debugging-pipe`: commands in on fd 3, replies out on fd 4, each message ending in
//! NUL), so the test needs no WebSocket client: the shell maps our stdin/stdout to those fds.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The tablet the tests hold: an 11-inch iPad in portrait.
pub const TABLET: (u32, u32) = (820, 1180);

pub struct Browser {
    child: Child,
    to: ChildStdin,
    from: Receiver<Value>,
    next: u64,
    session: String,
    _profile: tempfile::TempDir,
}

fn chromium() -> &'static str {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| panic!("Chromium is not installed (.ci/run installs Debian's chromium)"))
}

impl Browser {
    /// Starts a browser with its own profile (its own cookies and storage) and opens one tab of
    /// `size` on `about:blank`.
    pub fn start(size: (u32, u32)) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let script = format!(
            "exec {} --headless=new --remote-debugging-pipe --no-sandbox --disable-gpu \
             --no-first-run --no-default-browser-check --disable-extensions --disable-sync \
             --disable-background-networking --disable-component-update --disable-dev-shm-usage \
             --lang=ja-JP --user-data-dir={} about:blank 3<&0 4>&1 0</dev/null 1>/dev/null 2>/dev/null",
            chromium(),
            profile.path().display()
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let to = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, from) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(out);
            let mut buf = Vec::new();
            while r.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                buf.pop_if(|b| *b == 0);
                if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                    && tx.send(v).is_err()
                {
                    break;
                }
                buf.clear();
            }
        });
        let mut b = Self { child, to, from, next: 0, session: String::new(), _profile: profile };
        let target = b.call_browser("Target.createTarget", &json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached =
            b.call_browser("Target.attachToTarget", &json!({ "targetId": target_id, "flatten": true }));
        attached["sessionId"].as_str().unwrap().clone_into(&mut b.session);
        b.call("Page.enable", &json!({}));
        b.call("Network.enable", &json!({}));
        b.call(
            "Emulation.setDeviceMetricsOverride",
            &json!({ "width": size.0, "height": size.1, "deviceScaleFactor": 1, "mobile": false }),
        );
        b
    }

    fn send(&mut self, session: Option<&str>, method: &str, params: &Value) -> Value {
        match self.try_send(session, method, params) {
            Ok(v) => v,
            Err(e) => panic!("{method}: {e}"),
        }
    }

    /// `send`, with Chromium's error answer as `Err`.
    fn try_send(&mut self, session: Option<&str>, method: &str, params: &Value) -> Result<Value, Value> {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        self.to.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from.recv_timeout(left) {
                Ok(v) if v["id"] == json!(id) => {
                    return match v.get("error") {
                        Some(e) => Err(e.clone()),
                        None => Ok(v["result"].clone()),
                    };
                }
                Ok(_) => {} // an event: the tests poll the page instead
                Err(RecvTimeoutError::Timeout) => panic!("Chromium did not answer {method}"),
                Err(RecvTimeoutError::Disconnected) => panic!("Chromium exited during {method}"),
            }
        }
    }

    fn call_browser(&mut self, method: &str, params: &Value) -> Value {
        self.send(None, method, params)
    }

    fn call(&mut self, method: &str, params: &Value) -> Value {
        let session = self.session.clone();
        self.send(Some(&session), method, params)
    }

    /// Evaluates `js` in the page (awaiting a promise) and returns its value.
    pub fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            &json!({ "expression": js, "returnByValue": true, "awaitPromise": true, "userGesture": true }),
        );
        assert!(r.get("exceptionDetails").is_none(), "{js}: {}", r["exceptionDetails"]);
        r["result"]["value"].clone()
    }

    /// Opens `url` and waits until the new page (not the one before it) has loaded.
    pub fn goto(&mut self, url: &str) {
        // The old document carries a mark; the new one does not.
        self.eval("window.beforeNavigation = true");
        self.call("Page.navigate", &json!({ "url": url }));
        self.wait_until(
            "!window.beforeNavigation && document.readyState === 'complete' && !!document.body",
            "the page to load",
        );
    }

    /// Polls `condition` (a JS expression) until it is true, or fails naming `what`.
    pub fn wait_until(&mut self, condition: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let js =
            format!("(function() {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }})()");
        let params = json!({ "expression": js, "returnByValue": true, "awaitPromise": true });
        while Instant::now() < deadline {
            // Asked while the page navigates, Chromium answers "Inspected target navigated or
            // closed": the condition is not met yet; ask again.
            let session = self.session.clone();
            if self
                .try_send(Some(&session), "Runtime.evaluate", &params)
                .is_ok_and(|r| r["result"]["value"] == json!(true))
            {
                return;
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
        let text = self.text("body");
        panic!("timed out waiting for {what}; the page says: {text}");
    }

    /// The visible text of the first element matching `selector`.
    pub fn text(&mut self, selector: &str) -> String {
        let js = format!("(document.querySelector({}) || {{}}).innerText || ''", json!(selector));
        self.eval(&js).as_str().unwrap_or_default().to_owned()
    }

    pub fn path(&mut self) -> String {
        self.eval("location.pathname + location.search").as_str().unwrap_or_default().to_owned()
    }

    /// Types `value` into the field `selector`, as the on-screen keyboard would (input events).
    pub fn fill(&mut self, selector: &str, value: &str) {
        let js = format!(
            "(function() {{ const el = document.querySelector({}); el.focus(); el.value = {}; \
             el.dispatchEvent(new Event('input', {{ bubbles: true }})); return true; }})()",
            json!(selector),
            json!(value)
        );
        assert_eq!(self.eval(&js), json!(true), "no field {selector}");
    }

    /// Presses the button `selector`.
    pub fn click(&mut self, selector: &str) {
        let js = format!(
            "(function() {{ const el = document.querySelector({}); if (!el) return false; el.click(); return true; }})()",
            json!(selector)
        );
        assert_eq!(self.eval(&js), json!(true), "no button {selector}");
    }

    /// Taps the element `selector` at fractions `(fx, fy)` of its box, as a finger would (a real
    /// pointer event at those coordinates, not a synthetic `click()`).
    pub fn tap(&mut self, selector: &str, fx: f64, fy: f64) {
        let js = format!(
            "(function() {{ const el = document.querySelector({}); if (!el) return null; \
             el.scrollIntoView({{ block: 'center' }}); const r = el.getBoundingClientRect(); \
             return [r.left + r.width * {fx}, r.top + r.height * {fy}]; }})()",
            json!(selector)
        );
        let at = self.eval(&js);
        assert!(at.is_array(), "no element {selector} to tap");
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                &json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// The value of the page's cookie `name` (`HttpOnly` ones too), if set.
    pub fn cookie(&mut self, name: &str) -> Option<String> {
        let r = self.call("Network.getCookies", &json!({}));
        r["cookies"]
            .as_array()?
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["value"].as_str())
            .map(str::to_owned)
    }

    /// Cuts or restores the network, as a stairwell would.
    pub fn set_offline(&mut self, offline: bool) {
        self.call(
            "Network.emulateNetworkConditions",
            &json!({ "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
        );
    }

    /// Scrolls the element `selector` to the top of the screen, below the sticky bar.
    pub fn scroll_to(&mut self, selector: &str) {
        let js = format!(
            "(function() {{ const el = document.querySelector({}); if (!el) return false; \
             window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 70); return true; }})()",
            json!(selector)
        );
        assert_eq!(self.eval(&js), json!(true), "nothing to scroll to at {selector}");
    }

    /// Saves a PNG of what the screen shows to `path` (the manual's screenshots).
    pub fn screenshot(&mut self, path: &Path) {
        let r = self.call("Page.captureScreenshot", &json!({ "format": "png" }));
        let png = base64_decode(r["data"].as_str().unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(value) {
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap());
        }
    }
    out
}
