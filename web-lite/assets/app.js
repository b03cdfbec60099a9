// 守る: the little script the pages use. No inline script (CSP), no libraries.
// - live: server-sent events refresh the parts of the page marked data-region;
// - drafts: what is typed in a form is kept in this browser until the server has it, and sent
//   exactly once (an idempotency key per draft), with a visible state 送信待ち / 送信済み;
// - countdowns and the idle warning.
(function () {
  'use strict';
  var body = document.body;
  var DRAFTS = 'mamoru-drafts';

  function wipeDrafts() {
    try { localStorage.removeItem(DRAFTS); } catch (e) { /* storage off */ }
  }
  if (body.dataset.signedOut) { wipeDrafts(); return; }

  // ---- countdowns -------------------------------------------------------------------------
  function span(s) {
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d > 0) return d + '日' + h + '時間';
    if (h > 0) return h + '時間' + m + '分';
    return m + '分';
  }
  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll('[data-due]').forEach(function (el) {
      var left = Number(el.dataset.due) - now;
      el.textContent = left > 0 ? 'あと' + span(left) : span(-left) + '超過';
    });
  }
  setInterval(tick, 30000);

  // ---- live regions -----------------------------------------------------------------------
  var refreshing = null, again = false;
  function refresh() {
    // An event during a refresh asks for another one when it ends, so none is missed.
    if (refreshing) { again = true; return; }
    refreshing = setTimeout(function () {
      fetch(location.pathname + location.search, { credentials: 'same-origin', headers: { 'Accept': 'text/html', 'X-Mamoru-Live': '1' } })
        .then(function (r) {
          if (r.redirected && new URL(r.url).pathname === '/login') { wipeDrafts(); location.href = r.url; return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          refreshing = null;
          if (again) { again = false; refresh(); }
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, 'text/html');
          document.querySelectorAll('[data-region]').forEach(function (old) {
            var next = fresh.getElementById(old.id);
            if (!next) return;
            var seen = {};
            old.querySelectorAll('li').forEach(function (li) { seen[li.textContent] = true; });
            next.querySelectorAll('li').forEach(function (li) { if (!seen[li.textContent]) li.classList.add('fresh'); });
            old.replaceWith(next);
          });
          tick();
        })
        .catch(function () { refreshing = null; });
    }, 150);
  }
  function wanted(ev) {
    var kind = body.dataset.live;
    if (kind === 'board') return true;
    if (kind === 'case') return String(ev.case) === body.dataset.case;
    if (kind === 'child') return String(ev.child) === body.dataset.child;
    return false;
  }
  // The stream starts where the page was drawn (data-after), so a change made between drawing
  // and connecting still arrives; the browser's own reconnects resume from the last event id.
  var lastId = body.dataset.after !== '0' ? body.dataset.after : '';
  function listen() {
    var source = new EventSource('/api/v1/events' + (lastId ? '?after=' + lastId : ''));
    source.addEventListener('change', function (m) {
      if (m.lastEventId) lastId = m.lastEventId;
      try { if (wanted(JSON.parse(m.data))) refresh(); } catch (e) { /* ignore a bad event */ }
    });
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      // Closed for good: a 401 (session ended, tablet revoked) or a server error. A refresh
      // finds out (an ended session goes to sign-in); otherwise listen again from the last event.
      refresh();
      setTimeout(listen, 5000);
    };
  }
  if (body.dataset.live && window.EventSource) listen();

  // ---- drafts -----------------------------------------------------------------------------
  function load() {
    try { return JSON.parse(localStorage.getItem(DRAFTS) || '{}'); } catch (e) { return {}; }
  }
  function save(all) {
    try { localStorage.setItem(DRAFTS, JSON.stringify(all)); } catch (e) { /* storage full or off */ }
  }
  function newKey() {
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  function fields(form) {
    var out = {};
    new FormData(form).forEach(function (v, k) { if (k !== 'form_key' && k !== 'idempotency_key') out[k] = v; });
    return out;
  }
  function stateOf(form, text, cls) {
    var el = form.querySelector('.draft-state');
    if (el) { el.textContent = text; el.className = 'draft-state ' + (cls || ''); }
  }
  var banner = document.getElementById('conn');

  // Sends one queued draft; resolves true when the server has it.
  function send(id, form) {
    var all = load(), d = all[id];
    if (!d || !d.queued) return Promise.resolve(false);
    var data = new URLSearchParams(d.fields);
    data.set('form_key', d.formKey);
    data.set('idempotency_key', d.key);
    return fetch(d.action, {
      method: 'POST', credentials: 'same-origin', body: data,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }
    }).then(function (r) {
      banner.hidden = true;
      var all = load();
      if (r.redirected && new URL(r.url).pathname === '/login') { wipeDrafts(); location.href = r.url; return true; }
      if (r.ok && r.redirected) {
        delete all[id];
        save(all);
        if (form) stateOf(form, '送信済み', 'sent');
        location.href = r.url;
        return true;
      }
      // Refused (bad input, a conflict, a passing server error): let the server show its page
      // with the reason and the text, posting once more natively with the same key.
      // The native post carries the text; the draft goes, so its key is never reused for
      // something else (a fresh key is made if the person sends again).
      if (form) {
        delete all[id];
        save(all);
        form.elements.idempotency_key.value = d.key;
        HTMLFormElement.prototype.submit.call(form);
      } else if (all[id]) {
        all[id].queued = false;
        save(all);
      }
      return false;
    }, function () {
      banner.hidden = false;
      if (form) stateOf(form, '送信待ち（接続が戻ると自動で送信します）', 'waiting');
      return false;
    });
  }
  function flush() {
    var all = load();
    Object.keys(all).forEach(function (id) {
      if (all[id].queued) send(id, document.querySelector('form[data-draft="' + id + '"]'));
    });
  }

  document.querySelectorAll('form[data-draft]').forEach(function (form) {
    var id = form.dataset.draft, all = load(), d = all[id];
    if (d) {
      // Put back what was typed before a reload or a lost connection.
      // An unchecked box is absent from the saved fields: it must come back unchecked.
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.type === 'checkbox') el.checked = Object.prototype.hasOwnProperty.call(d.fields, el.name);
        else if (el.name && el.name !== 'form_key' && el.name !== 'idempotency_key' &&
                 Object.prototype.hasOwnProperty.call(d.fields, el.name)) el.value = d.fields[el.name];
      });
      if (d.queued) stateOf(form, '送信待ち（接続が戻ると自動で送信します）', 'waiting');
    }
    form.addEventListener('input', function () {
      var all = load(), d = all[id] || { key: newKey() };
      if (d.queued) return;
      d.fields = fields(form);
      d.action = form.action;
      d.formKey = form.elements.form_key.value;
      all[id] = d;
      save(all);
    });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      var all = load(), d = all[id] || { key: newKey() };
      d.fields = fields(form);
      d.action = form.action;
      d.formKey = form.elements.form_key.value;
      d.queued = true;
      all[id] = d;
      save(all);
      stateOf(form, '送信中…');
      send(id, form);
    });
  });
  window.addEventListener('online', flush);
  setInterval(flush, 5000);
  flush();

  // Logout wipes the drafts of this browser before the server ends the session.
  document.querySelectorAll('form.logout').forEach(function (f) {
    f.addEventListener('submit', wipeDrafts);
  });

  // ---- idle warning (15 minutes; warn a minute before) -------------------------------------
  // Page loads and saves reset the server's idle timer; so does typing (a light ping at most once
  // a minute), so a long note is not lost to the timeout. Live refreshes do not count.
  var idle = document.getElementById('idle');
  var IDLE = 15 * 60 * 1000;
  var deadline = Date.now() + IDLE;
  var lastPing = Date.now();
  function ping() {
    lastPing = Date.now();
    return fetch('/api/v1/session', { credentials: 'same-origin' }).then(function (r) {
      if (r.status === 401) { wipeDrafts(); location.href = '/login?expired=1'; return; }
      if (r.ok) { deadline = Date.now() + IDLE; idle.hidden = true; }
    }, function () { /* offline: the draft is kept */ });
  }
  document.addEventListener('input', function () { if (Date.now() - lastPing > 60000) ping(); });
  setInterval(function () {
    var left = deadline - Date.now();
    // Offline, the server decides when it sees the tablet again; a queued draft is not thrown
    // away by this page's own timer.
    if (!navigator.onLine) return;
    if (left <= 0) {
      wipeDrafts();
      fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' })
        .then(null, function () { /* already ended */ })
        .then(function () { location.href = '/login?expired=1'; });
      return;
    }
    idle.hidden = left > 60 * 1000;
  }, 5000);
  document.getElementById('stay').addEventListener('click', ping);
}());
