// 守る: the little script the pages use. No inline script (CSP), no libraries.
// - live: server-sent events refresh the parts of the page marked data-region (a part with a
//   form being typed in waits until the person leaves it);
// - drafts: what is typed in a form is kept in this browser until the server has it, and sent
//   exactly once (an idempotency key per draft), with a visible state 送信待ち / 送信済み;
// - countdowns and the idle warning.
(function () {
  'use strict';
  var body = document.body;
  // Back after a save: at the part written to (a form sent by this script lost the #fragment).
  if (!location.hash && body.dataset.scroll) {
    var back = document.getElementById(body.dataset.scroll);
    if (back) back.scrollIntoView();
  }
  // Refused: the fields the server named are marked in the form that was sent (this page is
  // its action; among forms sharing one, the one whose hidden inputs match `data-sent`), the
  // first brought into view with the reason beside it; changing a field clears its mark.
  function markInvalid() {
    var names = (body.dataset.invalid || '').split(' ').filter(Boolean);
    if (!names.length) return;
    var sent = Array.prototype.filter.call(document.forms, function (f) {
      return new URL(f.getAttribute('action') || '', location.href).pathname === location.pathname;
    });
    var pairs = (body.dataset.sent || '').split(' ').filter(Boolean).map(function (p) { return p.split('='); });
    var which = sent.filter(function (f) {
      return pairs.every(function (p) {
        return Array.prototype.some.call(f.querySelectorAll('input[type=hidden]'), function (el) {
          return el.name === p[0] && el.value === p[1];
        });
      });
    });
    var first = null;
    (which.length ? which : sent).slice(0, 1).forEach(function (form) {
      names.forEach(function (n) {
        form.querySelectorAll('[name="' + n + '"]').forEach(function (el) {
          var hidden = el.type === 'hidden';
          var shown = hidden ? el.closest('fieldset, .photo-field') : el;
          if (!shown) return;
          var box = shown.closest('label, fieldset') || shown;
          if (!hidden) el.setAttribute('aria-invalid', 'true');
          box.classList.add('invalid');
          if (!first) first = { el: el, box: box };
          var clear = function () {
            el.removeAttribute('aria-invalid');
            box.classList.remove('invalid');
            var why = box.querySelector('.why');
            if (why) why.remove();
          };
          // A photo or a body-map mark changes a hidden input and tells the form.
          (hidden ? form : el).addEventListener('input', clear, { once: true });
          el.addEventListener('change', clear, { once: true });
        });
      });
    });
    if (!first) return;
    var alert = document.querySelector('p.error[role=alert]');
    if (alert) {
      var why = document.createElement('span');
      why.className = 'why';
      why.textContent = alert.textContent;
      first.box.appendChild(why);
    }
    first.box.scrollIntoView({ block: 'center' });
    if (first.el.type !== 'hidden' && first.el.focus) first.el.focus({ preventScroll: true });
  }
  try { markInvalid(); } catch (e) { /* the marks only help: the message says it all */ }
  // Each person's drafts apart (a tablet may be shared): only their own are put back and sent.
  var PREFIX = 'mamoru-drafts';
  var DRAFTS = PREFIX + '-' + (body.dataset.staff || '');

  function draftKeys() {
    try { return Object.keys(localStorage).filter(function (k) { return k.indexOf(PREFIX) === 0; }); } catch (e) { return []; }
  }
  // Only the person's own discard (signing out after being asked) or a revoked tablet wipes
  // drafts; an ended session keeps them, to be sent after signing in again.
  function wipeDrafts() {
    // A write already on its way checks `locked` again just before it writes.
    locked = true;
    drafts = {};
    try { localStorage.removeItem(DRAFTS); } catch (e) { /* storage off */ }
  }
  // How many drafts wait in a person's storage: said beside the encrypted drafts (a count only).
  function queuedIn(key) {
    try {
      var all = JSON.parse(localStorage.getItem(key) || '{}');
      if (all.v === 1) return all.unreadable ? 0 : all.queued || 0;
      return Object.keys(all).filter(function (id) { return all[id].queued; }).length;
    } catch (e) { return 0; }
  }
  if (body.dataset.signedOut) {
    if (body.dataset.wipe) {
      draftKeys().forEach(function (k) { try { localStorage.removeItem(k); } catch (e) { /* off */ } });
      // What was read where goes too: it says which cases were opened on this tablet.
      try {
        Object.keys(localStorage).filter(function (k) { return k.indexOf('mamoru-seen') === 0; })
          .forEach(function (k) { localStorage.removeItem(k); });
      } catch (e) { /* off */ }
      return;
    }
    var waiting = draftKeys().reduce(function (n, k) { return n + queuedIn(k); }, 0);
    var note = document.getElementById('waiting');
    if (waiting > 0 && note) {
      note.textContent = 'この端末に送信待ちの記録が' + waiting + '件あります。記録した本人がログインすると、自動で送信されます。';
      note.hidden = false;
    }
    return;
  }
  // The session's form key now: a draft typed in an earlier session is sent with it.
  function formKeyNow() {
    var k = document.querySelector('form.logout input[name=form_key]');
    return k ? k.value : '';
  }

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

  // 未読: the messages of a case's thread that came after the reader last had that case's page
  // open on this tablet (never their own). The board marks its list; the case page marks its
  // thread against what was seen when it loaded (so a live update keeps the marks), then counts
  // it seen. Kept per person: case number → newest message number and when, 500 cases at most.
  var SEEN = 'mamoru-seen-' + (body.dataset.staff || '');
  var here = body.dataset.case, onCase = !!document.getElementById('thread');
  function seenNow() {
    try { return JSON.parse(localStorage.getItem(SEEN)) || {}; } catch (e) { return {}; }
  }
  var atLoad = (seenNow()[here] || {}).m || 0;
  function unread() {
    var seen = seenNow(), newest = 0;
    document.querySelectorAll('li[data-message]').forEach(function (li) {
      var c = li.dataset.case || here, id = Number(li.dataset.message);
      var before = onCase && c === here ? atLoad : (seen[c] || {}).m || 0;
      if (c === here) newest = Math.max(newest, id);
      if (li.classList.contains('mine') || li.classList.contains('unread') || !(id > before)) return;
      li.classList.add('unread');
      var tag = document.createElement('span');
      tag.className = 'tag unread';
      tag.textContent = '未読';
      var meta = li.querySelector('.meta') || li;
      meta.insertBefore(tag, meta.firstChild);
    });
    if (!onCase || !(newest > ((seen[here] || {}).m || 0))) return;
    seen[here] = { m: newest, t: Date.now() };
    var cases = Object.keys(seen).sort(function (a, b) { return seen[a].t - seen[b].t; });
    cases.slice(0, Math.max(0, cases.length - 500)).forEach(function (k) { delete seen[k]; });
    try { localStorage.setItem(SEEN, JSON.stringify(seen)); } catch (e) { /* full: marks stay */ }
  }
  unread();

  // ---- live regions -----------------------------------------------------------------------
  var refreshing = null, again = false;
  function refresh() {
    // An event during a refresh asks for another one when it ends, so none is missed.
    if (refreshing) { again = true; return; }
    refreshing = setTimeout(function () {
      fetch(location.pathname + location.search, { credentials: 'same-origin', headers: { 'Accept': 'text/html', 'X-Mamoru-Live': '1' } })
        .then(function (r) {
          if (r.redirected && new URL(r.url).pathname === '/login') { location.href = r.url; return null; }
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
            // Someone typing in a form here (the keyboard, a Japanese IME) keeps the form: the
            // part is redrawn once they leave it.
            if (typing(old)) { later(old); return; }
            var seen = {};
            var key = function (li) { return li.dataset.message || li.textContent; };
            old.querySelectorAll('li').forEach(function (li) { seen[key(li)] = true; });
            next.querySelectorAll('li').forEach(function (li) { if (!seen[key(li)]) li.classList.add('fresh'); });
            old.replaceWith(next);
            // A redrawn form takes its draft back, like a page that loads.
            if (vaultOpen) next.querySelectorAll('form[data-draft]').forEach(bindDraft);
          });
          tick();
          unread();
        })
        .catch(function () { refreshing = null; });
    }, 150);
  }
  function typing(region) {
    var a = document.activeElement;
    return !!(a && a.form && region.contains(a));
  }
  // Redraws `region` when the focus has left it.
  function later(region) {
    if (region.dataset.stale) return;
    region.dataset.stale = '1';
    region.addEventListener('focusout', function () {
      setTimeout(function () { if (!typing(region)) refresh(); }, 0);
    });
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
  var source = null;
  function listen() {
    source = new EventSource('/api/v1/events' + (lastId ? '?after=' + lastId : ''));
    source.addEventListener('change', function (m) {
      if (m.lastEventId) lastId = m.lastEventId;
      try { if (wanted(JSON.parse(m.data))) refresh(); } catch (e) { /* ignore a bad event */ }
    });
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      // Closed for good: a 401 (session ended, tablet revoked) or a server error. A refresh
      // finds out (an ended session goes to sign-in); otherwise listen again from the last event.
      refresh();
      setTimeout(function () { if (source && source.readyState === EventSource.CLOSED) listen(); }, 5000);
    };
  }
  if (body.dataset.live && window.EventSource) listen();
  // A page left for another one lets its stream go: the browser may keep the page (back/forward
  // cache), and every stream it kept would hold one of the few connections a browser opens to a
  // server, until new pages wait for a free one. Shown again, the page catches up.
  window.addEventListener('pagehide', function () {
    if (source) { source.close(); source = null; }
  });
  window.addEventListener('pageshow', function (ev) {
    if (ev.persisted && body.dataset.live && window.EventSource && !source) { listen(); refresh(); }
  });

  // ---- drafts, kept encrypted ------------------------------------------------------------
  // What is typed (and photos waiting to be sent) is kept in this browser's storage encrypted
  // (AES-256-GCM) with the key the server gives every page of this person's session on this
  // tablet (`data-vault`), held here in memory only and not extractable. A tablet whose
  // registration is revoked is never given its key again, so what it kept cannot be read; the
  // same person signing in again on it gets the same key, and their drafts back. Without the
  // key (or WebCrypto) nothing is kept: the forms say so.
  var drafts = {}, vault = null, vaultOpen = false, locked = false, writing = Promise.resolve(true);
  var synced = 0; // when this page last took in what another page of this tablet kept
  function bytesOfHex(h) {
    var a = new Uint8Array(h.length / 2);
    for (var i = 0; i < a.length; i++) a[i] = parseInt(h.substr(i * 2, 2), 16);
    return a;
  }
  function toB64(a) {
    var s = '';
    for (var i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
    return btoa(s);
  }
  function fromB64(s) {
    var bin = atob(s), a = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);
    return a;
  }
  var SEALED = { v: 1, iv: 1, ct: 1, queued: 1, unreadable: 1 };
  // The drafts in a stored box. Drafts kept in the clear (before they were sealed, or beside the
  // box by a page still running the script of before) come along, to be sealed at the next save.
  function unseal(raw) {
    var box = JSON.parse(raw), clear = {};
    Object.keys(box).forEach(function (id) { if (box.v !== 1 || !SEALED[id]) clear[id] = box[id]; });
    if (box.v !== 1) return Promise.resolve(clear);
    return crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromB64(box.iv) }, vault, fromB64(box.ct))
      .then(function (plain) {
        var all = JSON.parse(new TextDecoder().decode(plain));
        Object.keys(clear).forEach(function (id) { if (!all[id]) all[id] = clear[id]; });
        return all;
      });
  }
  function openVault() {
    var hex = body.dataset.vault || '';
    body.removeAttribute('data-vault');
    if (hex.length !== 64 || !window.crypto || !crypto.subtle) return Promise.resolve();
    var raw = null, migrate = false;
    return crypto.subtle.importKey('raw', bytesOfHex(hex), 'AES-GCM', false, ['encrypt', 'decrypt']).then(function (key) {
      vault = key;
      try { raw = localStorage.getItem(DRAFTS); } catch (e) { /* storage off */ }
      return (raw ? unseal(raw) : Promise.resolve({})).then(function (all) {
        migrate = !!raw && Object.keys(JSON.parse(raw)).some(function (k) { return !SEALED[k]; });
        Object.keys(all).forEach(function (id) { if (!drafts[id]) drafts[id] = all[id]; });
        stampAll(drafts);
      }, function () {
        // Not this key's (the tablet was registered as a new one, or the server's store is
        // another): left where it is, marked so that nobody is told it will be sent; nothing
        // is kept on this tablet for this person until it is dealt with.
        locked = true;
        try {
          var box = JSON.parse(raw);
          box.unreadable = true;
          localStorage.setItem(DRAFTS, JSON.stringify(box));
        } catch (e) { /* storage off */ }
      });
    }).then(function () {
      // Drafts kept before they were kept per person belong to whoever signs in first.
      var legacy = {};
      try { legacy = JSON.parse(localStorage.getItem(PREFIX) || '{}'); } catch (e) { /* off */ }
      Object.keys(legacy).forEach(function (id) { if (!drafts[id]) drafts[id] = legacy[id]; });
      if (!migrate && !Object.keys(legacy).length) return;
      return save(drafts).then(function (kept) {
        if (kept) try { localStorage.removeItem(PREFIX); } catch (e) { /* off */ }
      });
    }, function () { vault = null; }).then(function () { vaultOpen = true; });
  }
  function load() { return drafts; }
  var stamped = {}; // draft id -> its text as last kept, to tell which drafts this page changed
  // Takes `all` as it was kept elsewhere (read from storage): nothing of it changed here yet.
  function stampAll(all) {
    stamped = {};
    Object.keys(all).forEach(function (id) {
      var d = all[id], at = d.at;
      delete d.at;
      stamped[id] = JSON.stringify(d);
      if (at !== undefined) d.at = at;
    });
  }
  // Keeps `all` (in memory at once; sealed and stored in order). Resolves false when the
  // browser would not keep it (no key, storage full or off, or drafts discarded).
  function save(all) {
    drafts = all;
    var now = Date.now();
    Object.keys(all).forEach(function (id) {
      var d = all[id], at = d.at;
      delete d.at;
      var text = JSON.stringify(d);
      d.at = stamped[id] === text ? at : now;
      stamped[id] = text;
    });
    if (!vault || locked) return Promise.resolve(false);
    var ids = Object.keys(all), text = JSON.stringify(all);
    var queued = ids.filter(function (id) { return all[id].queued; }).length;
    writing = writing.then(function () {
      if (locked) return false;
      if (!ids.length) { localStorage.removeItem(DRAFTS); return true; }
      var iv = crypto.getRandomValues(new Uint8Array(12));
      return crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv }, vault, new TextEncoder().encode(text)).then(function (sealed) {
        if (locked) return false;
        localStorage.setItem(DRAFTS, JSON.stringify({ v: 1, iv: toB64(iv), ct: toB64(new Uint8Array(sealed)), queued: queued }));
        return true;
      });
    }).then(null, function () { return false; });
    return writing;
  }
  // Goes to `url` once what this page keeps is written (a page left mid-write loses the write).
  function go(url) {
    writing.then(function () { location.href = url; });
  }
  // Another page of this tablet kept its drafts: theirs are taken as they are (a draft sent
  // there goes here too), but for drafts this page changed since it last took theirs in.
  window.addEventListener('storage', function (ev) {
    if (ev.key !== DRAFTS || !vault || locked) return;
    if (ev.newValue === null) { drafts = {}; stamped = {}; synced = Date.now(); return; }
    var since = synced;
    unseal(ev.newValue).then(function (theirs) {
      var ours = 0;
      Object.keys(drafts).forEach(function (id) {
        var newer = (drafts[id].at || 0) > (theirs[id] ? theirs[id].at || 0 : since);
        if (newer) { theirs[id] = drafts[id]; ours++; }
      });
      drafts = theirs;
      stampAll(theirs);
      synced = Date.now();
      // What this page changed meanwhile is written back beside theirs.
      if (ours) save(drafts);
    }, function () { /* not ours to read */ });
  });
  function newKey() {
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  // The form's fields, and the button that sent it when it has a name (a choice such as
  // "this child" on the intake's duplicate check).
  function fields(form, submitter) {
    var out = {};
    new FormData(form).forEach(function (v, k) { if (k !== 'form_key' && k !== 'idempotency_key') out[k] = v; });
    if (submitter && submitter.name) out[submitter.name] = submitter.value;
    return out;
  }
  function stateOf(form, text, cls) {
    var el = form.querySelector('.draft-state');
    if (el) { el.textContent = text; el.className = 'draft-state ' + (cls || ''); }
  }
  var banner = document.getElementById('conn');
  // Offline is said as soon as the tablet knows, not only when a send fails.
  if (!navigator.onLine) banner.hidden = false;
  window.addEventListener('offline', function () { banner.hidden = false; });

  // ---- photos -----------------------------------------------------------------------------
  // A photo is taken through the page (the camera, not the gallery), redrawn at most 1600 pixels
  // on its long side as JPEG (which also drops the camera's location data) with a band stating
  // when, who and which child, and sent at once. The form carries each photo's SHA-256; a photo
  // taken offline waits in the draft (`pending`) and is sent before the form.
  var MAX_SIDE = 1600;
  var held = {}; // draft id -> photos waiting, also when the browser's storage is full
  function stampText(field) {
    var when = new Intl.DateTimeFormat('ja-JP-u-ca-japanese', {
      era: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit'
    }).format(new Date());
    return when + '・' + field.dataset.stamp;
  }
  function shrink(file, stamp) {
    return new Promise(function (resolve, reject) {
      var img = new Image(), reader = new FileReader();
      reader.onload = function () { img.src = reader.result; };
      reader.onerror = reject;
      img.onerror = function () { reject(new Error('not an image')); };
      img.onload = function () {
        var scale = Math.min(1, MAX_SIDE / Math.max(img.width, img.height));
        var w = Math.max(1, Math.round(img.width * scale)), h = Math.max(1, Math.round(img.height * scale));
        var band = Math.max(28, Math.round(Math.max(w, h) / 40));
        var c = document.createElement('canvas');
        c.width = w; c.height = h + band;
        var g = c.getContext('2d');
        g.drawImage(img, 0, 0, w, h);
        g.fillStyle = '#000'; g.fillRect(0, h, w, band);
        g.fillStyle = '#fff'; g.textBaseline = 'middle';
        g.font = Math.round(band * 0.55) + 'px sans-serif';
        g.fillText(stamp, Math.round(band / 3), h + band / 2, w - band);
        resolve(c.toDataURL('image/jpeg', 0.8));
      };
      reader.readAsDataURL(file);
    });
  }
  function toBlob(data) {
    var bin = atob(data.split(',')[1]), a = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);
    return new Blob([a], { type: 'image/jpeg' });
  }
  // Resolves the photo's SHA-256; rejects with .offline when it could not reach the server.
  function upload(caseId, data) {
    return fetch('/api/v1/cases/' + caseId + '/photos', {
      method: 'POST', credentials: 'same-origin', body: toBlob(data), headers: { 'Content-Type': 'image/jpeg' }
    }).then(function (r) {
      // Signed out meanwhile: the photo waits in its draft like one taken offline, and the
      // sign-in page follows once it is kept (`expired`).
      if (r.status === 401) {
        var e = new Error('signed out'); e.offline = true; e.expired = true; throw e;
      }
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j.error && (j.error.message_ja || j.error.message)) || 'refused');
        return j.sha256;
      });
    }, function () { var e = new Error('offline'); e.offline = true; throw e; });
  }
  function thumb(field, src, state) {
    var li = document.createElement('li'), img = document.createElement('img'), s = document.createElement('span');
    img.src = src; img.alt = '撮影した写真';
    s.className = 'photo-state'; s.textContent = state || '';
    li.appendChild(img); li.appendChild(s);
    field.querySelector('.thumbs').appendChild(li);
    return s;
  }
  function addSha(form, sha) {
    var input = form.elements.photos, list = input.value ? input.value.split(',') : [];
    if (list.indexOf(sha) < 0) list.push(sha);
    input.value = list.join(',');
  }
  function pendingOf(id) {
    var d = load()[id];
    return (held[id] || []).concat(((d && d.pending) || []).filter(function (p) { return (held[id] || []).indexOf(p) < 0; }));
  }
  function keepPending(id, form, list) {
    held[id] = list;
    var all = load(), d = all[id] || { key: newKey() };
    d.fields = fields(form); d.action = form.action; d.formKey = form.elements.form_key.value;
    d.pending = list;
    d.photoCase = form.querySelector('[data-photos]').dataset.case;
    all[id] = d;
    return save(all);
  }
  // Sends the photos of draft `d` that wait; resolves its fields with their SHA-256s added.
  function sendPending(id, form, d) {
    var fieldsNow = d.fields, field = form && form.querySelector('[data-photos]');
    var caseId = d.photoCase || (field && field.dataset.case);
    return pendingOf(id).reduce(function (p, data) {
      return p.then(function () {
        return upload(caseId, data).then(function (sha) {
          var shas = fieldsNow.photos ? fieldsNow.photos.split(',') : [];
          if (shas.indexOf(sha) < 0) shas.push(sha);
          fieldsNow.photos = shas.join(',');
          if (form) addSha(form, sha);
          held[id] = pendingOf(id).filter(function (x) { return x !== data; });
          var all = load();
          if (all[id]) { all[id].pending = held[id]; all[id].fields = fieldsNow; save(all); }
        });
      });
    }, Promise.resolve()).then(function () { return fieldsNow; });
  }
  function photoField(form, id) {
    var field = form.querySelector('[data-photos]');
    if (!field) return;
    var caseId = field.dataset.case;
    (form.elements.photos.value ? form.elements.photos.value.split(',') : []).forEach(function (sha) {
      thumb(field, '/api/v1/cases/' + caseId + '/photos/' + sha, '送信済み');
    });
    pendingOf(id).forEach(function (data) { thumb(field, data, '送信待ち'); });
    var picker = field.querySelector('input[type=file]');
    picker.addEventListener('change', function () {
      Array.prototype.forEach.call(picker.files, function (file) {
        shrink(file, stampText(field)).then(function (data) {
          var state = thumb(field, data, '送信中…');
          upload(caseId, data).then(function (sha) {
            addSha(form, sha);
            form.dispatchEvent(new Event('input'));
            state.textContent = '送信済み';
          }, function (e) {
            if (!e.offline) { state.textContent = '送れませんでした（' + e.message + '）'; return; }
            banner.hidden = !!e.expired;
            keepPending(id, form, pendingOf(id).concat([data])).then(function (kept) {
              state.textContent = kept ? '送信待ち（接続が戻ると送信します）'
                : '送信待ち（この端末に一時保存できません。送信が済むまでこの画面を閉じないでください）';
              if (e.expired && kept) go('/login?expired=1');
            });
          });
        }, function () {
          thumb(field, '', '画像として読み込めませんでした');
        });
      });
      picker.value = '';
    });
  }

  // ---- body map ---------------------------------------------------------------------------
  // A tap on the front or back outline marks an injury there (fractions of the outline's width
  // and height); each mark gets a size and a note. The marks travel as JSON in the form.
  var SVG = 'http://www.w3.org/2000/svg';
  function bodyMap(form) {
    var field = form.querySelector('[data-bodymap]');
    if (!field) return;
    var input = form.elements.injuries, list = field.querySelector('ol.injuries'), marks;
    try { marks = JSON.parse(input.value || '[]'); } catch (e) { marks = []; }
    function store() {
      input.value = marks.length ? JSON.stringify(marks) : '';
      form.dispatchEvent(new Event('input'));
    }
    function el(tag, attrs, text) {
      var e = document.createElement(tag);
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
      if (text) e.textContent = text;
      return e;
    }
    function draw() {
      field.querySelectorAll('.marks').forEach(function (g) { while (g.firstChild) g.removeChild(g.firstChild); });
      while (list.firstChild) list.removeChild(list.firstChild);
      marks.forEach(function (m, i) {
        var g = field.querySelector('svg[data-side="' + m.side + '"] .marks');
        var c = document.createElementNS(SVG, 'circle');
        c.setAttribute('class', 'mark'); c.setAttribute('cx', m.x * 100); c.setAttribute('cy', m.y * 200); c.setAttribute('r', 5);
        var t = document.createElementNS(SVG, 'text');
        t.setAttribute('class', 'mark-n'); t.setAttribute('x', m.x * 100); t.setAttribute('y', m.y * 200);
        t.textContent = String(i + 1);
        g.appendChild(c); g.appendChild(t);
        var li = el('li', {});
        li.appendChild(el('span', { 'class': 'where' }, (i + 1) + '. ' + (m.side === 'front' ? '前' : '後ろ') + (m.part ? '・' + m.part : '')));
        var size = el('input', { type: 'number', min: '0.1', max: '200', step: '0.1', inputmode: 'decimal', placeholder: '大きさ', 'aria-label': '大きさ（cm）' });
        if (m.size_cm) size.value = m.size_cm;
        size.addEventListener('input', function () { var v = parseFloat(size.value); m.size_cm = v > 0 ? v : null; store(); });
        var note = el('input', { placeholder: '様子（色・形など）', 'aria-label': 'けがの様子' });
        note.value = m.description || '';
        note.addEventListener('input', function () { m.description = note.value; store(); });
        var del = el('button', { type: 'button', 'class': 'remove' }, '削除');
        del.addEventListener('click', function () { marks.splice(i, 1); store(); draw(); });
        li.appendChild(size); li.appendChild(el('span', {}, 'cm')); li.appendChild(note); li.appendChild(del);
        list.appendChild(li);
      });
    }
    field.querySelectorAll('svg[data-side]').forEach(function (svg) {
      svg.addEventListener('click', function (ev) {
        var r = svg.getBoundingClientRect();
        var x = Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width));
        var y = Math.min(1, Math.max(0, (ev.clientY - r.top) / r.height));
        // The part tapped, as the figure names it (the server names the record by the same regions).
        var on = ev.target.closest && ev.target.closest('[data-part]');
        marks.push({ side: svg.dataset.side, x: Math.round(x * 1000) / 1000, y: Math.round(y * 1000) / 1000, size_cm: null, description: '', part: on ? on.dataset.part : '' });
        store();
        draw();
        var notes = list.querySelectorAll('input:not([type=number])');
        notes[notes.length - 1].focus();
      });
    });
    draw();
  }

  // Sends one queued draft, its waiting photos first; resolves true when the server has it.
  function send(id, form) {
    var d = load()[id];
    if (!d || !d.queued) return Promise.resolve(false);
    return sendPending(id, form, d).then(function (fieldsNow) { return post(id, form, d, fieldsNow); }, function (e) {
      // Refused by the server (not offline): waiting would not help; say why.
      if (!e.offline) {
        if (form) stateOf(form, '写真を送れませんでした: ' + e.message, 'refused');
        return false;
      }
      if (e.expired) { go('/login?expired=1'); return false; }
      banner.hidden = false;
      if (form) stateOf(form, '送信待ち（接続が戻ると自動で送信します）', 'waiting');
      return false;
    });
  }
  function post(id, form, d, fieldsNow) {
    var data = new URLSearchParams(fieldsNow);
    data.set('form_key', formKeyNow() || d.formKey);
    data.set('idempotency_key', d.key);
    return fetch(d.action, {
      method: 'POST', credentials: 'same-origin', body: data,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }
    }).then(function (r) {
      banner.hidden = true;
      var all = load();
      // The session ended meanwhile: the draft stays queued, and is sent after signing in again.
      if (r.redirected && new URL(r.url).pathname === '/login') { go(r.url); return false; }
      if (r.ok && r.redirected) {
        delete all[id];
        save(all);
        if (form) stateOf(form, '送信済み', 'sent');
        go(r.url);
        return true;
      }
      // No longer allowed (a restriction or a role changed meanwhile): the server's page could
      // not show the text, so it stays here, on the form and in the draft, and is not resent.
      if (r.status === 403) {
        if (all[id]) { all[id].queued = false; save(all); }
        if (form) stateOf(form, '送信できませんでした：このケースへの権限がなくなりました。入力した内容はこの端末に残っています。', 'refused');
        return false;
      }
      // Refused (bad input, a conflict, a passing server error): let the server show its page
      // with the reason and the text, posting once more natively with the same key.
      // The native post carries the text; the draft goes, so its key is never reused for
      // something else (a fresh key is made if the person sends again).
      if (form) {
        delete all[id];
        save(all);
        form.elements.idempotency_key.value = d.key;
        // What the form itself does not hold (the button that sent it) goes along as well.
        Object.keys(fieldsNow).forEach(function (k) {
          var own = Array.prototype.some.call(form.elements, function (el) { return el.name === k && el.type !== 'submit'; });
          if (own) return;
          var extra = document.createElement('input');
          extra.type = 'hidden'; extra.name = k; extra.value = fieldsNow[k];
          form.appendChild(extra);
        });
        writing.then(function () { HTMLFormElement.prototype.submit.call(form); });
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

  // Puts a form's draft back and keeps it from then on; sends it exactly once.
  function bindDraft(form) {
    var id = form.dataset.draft, all = load(), d = all[id];
    if (d) {
      // Put back what was typed before a reload or a lost connection.
      // An unchecked box is absent from the saved fields: it must come back unchecked.
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.type === 'checkbox') el.checked = Object.prototype.hasOwnProperty.call(d.fields, el.name);
        // A radio button's value is its answer, not the place to put one.
        else if (el.type === 'radio') el.checked = d.fields[el.name] === el.value;
        else if (el.name && el.name !== 'form_key' && el.name !== 'idempotency_key' &&
                 Object.prototype.hasOwnProperty.call(d.fields, el.name)) el.value = d.fields[el.name];
      });
      if (d.queued) stateOf(form, '送信待ち（接続が戻ると自動で送信します）', 'waiting');
    }
    photoField(form, id);
    bodyMap(form);
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
      d.fields = fields(form, ev.submitter);
      d.action = form.action;
      d.formKey = form.elements.form_key.value;
      d.queued = true;
      all[id] = d;
      save(all);
      stateOf(form, '送信中…');
      send(id, form);
    });
  }
  // Signing out with drafts not yet sent asks first: saying yes discards them. (Before the
  // drafts are read, a sign-out asks nothing and discards nothing.)
  function askBeforeSignOut() {
    document.querySelectorAll('form.logout').forEach(function (f) {
      f.addEventListener('submit', function (ev) {
        var n = Object.keys(load()).length;
        if (n > 0 && !window.confirm('この端末に、まだサーバーに届いていない入力が' + n + '件あります。ログアウトすると消えます。ログアウトしますか？')) {
          ev.preventDefault();
          return;
        }
        wipeDrafts();
      });
    });
  }
  openVault().then(function () {
    document.querySelectorAll('form[data-draft]').forEach(bindDraft);
    askBeforeSignOut();
    window.addEventListener('online', flush);
    setInterval(flush, 5000);
    flush();
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
      if (r.status === 401) { location.href = '/login?expired=1'; return; }
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
      // The drafts stay: they are sent after signing in again.
      fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' })
        .then(null, function () { /* already ended */ })
        .then(function () { location.href = '/login?expired=1'; });
      return;
    }
    idle.hidden = left > 60 * 1000;
  }, 5000);
  document.getElementById('stay').addEventListener('click', ping);
}());
