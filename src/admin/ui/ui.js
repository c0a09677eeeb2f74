// ui.js — zkts's tree browser: lazy tree, data as text/JSON/hex, stat, ACL, path search, live
// changes from the server's Server-Sent Events (a persistent recursive watch on /), and edits
// (set with a version check, create, delete) when the server allows them. Plain browser JS.
'use strict';

const API = 'api/';
const $ = (id) => document.getElementById(id);
const state = {
  auth: sessionStorage.getItem('zkts-ui-auth'), // "user:password" or null
  canEdit: false,
  selected: null, // path
  view: 'text',
  node: null, // the last /api/node answer for the selected path
  expanded: new Set(['/']),
  stream: null, // AbortController of the event stream
  dirty: null, // the path whose edit box holds unsaved text
};

function headers(extra) {
  const h = Object.assign({}, extra);
  if (state.auth) h.Authorization = 'digest ' + state.auth;
  return h;
}

async function api(path, opts) {
  const r = await fetch(API + path, Object.assign({ cache: 'no-store' }, opts, { headers: headers(opts && opts.headers) }));
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw Object.assign(new Error(body.error || r.statusText), { status: r.status });
  return body;
}

const q = (p) => encodeURIComponent(p);
const childPath = (parent, name) => (parent === '/' ? '/' + name : parent + '/' + name);
const parentOf = (p) => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));
const nameOf = (p) => (p === '/' ? '/' : p.slice(p.lastIndexOf('/') + 1));

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

// ---- the tree -------------------------------------------------------------------------------

function rowOf(path) {
  return document.querySelector('li[data-path="' + CSS.escape(path) + '"]');
}

function makeItem(path) {
  const li = el('li', { 'data-path': path, role: 'treeitem' });
  const toggle = el('span', { class: 'toggle' }, '▸');
  const row = el('div', { class: 'row' }, toggle, el('span', { class: 'name' }, nameOf(path)), el('span', { class: 'count' }));
  row.addEventListener('click', (ev) => {
    if (ev.target === toggle) void toggleNode(path);
    else void select(path);
  });
  row.addEventListener('dblclick', () => void toggleNode(path));
  li.append(row);
  return li;
}

async function loadChildren(path) {
  const li = rowOf(path);
  if (!li) return;
  let node;
  try {
    node = await api('node?path=' + q(path));
  } catch (e) {
    if (e.status === 404) return refreshChildren(parentOf(path));
    li.querySelector('.count').textContent = ' (' + e.message + ')';
    return;
  }
  const kids = node.children || [];
  li.querySelector('.count').textContent = node.children ? ' ' + kids.length : ' (' + node.childrenError + ')';
  li.querySelector('.toggle').textContent = kids.length === 0 ? '·' : state.expanded.has(path) ? '▾' : '▸';
  let ul = li.querySelector(':scope > ul');
  if (!state.expanded.has(path)) {
    if (ul) ul.remove();
    return;
  }
  if (!ul) li.append((ul = el('ul', { role: 'group' })));
  const have = new Map([...ul.children].map((c) => [c.dataset.path, c]));
  const want = kids.map((k) => childPath(path, k));
  for (const [p, c] of have) if (!want.includes(p)) c.remove();
  let prev = null;
  for (const p of want) {
    let c = have.get(p);
    if (!c) c = makeItem(p);
    if (prev === null ? ul.firstChild !== c : prev.nextSibling !== c) {
      if (prev === null) ul.prepend(c);
      else prev.after(c);
    }
    prev = c;
  }
  if (state.selected) markSelected();
  await Promise.all(want.filter((p) => state.expanded.has(p)).map((p) => loadChildren(p)));
}

async function toggleNode(path) {
  if (state.expanded.has(path)) state.expanded.delete(path);
  else state.expanded.add(path);
  await loadChildren(path);
}

async function refreshChildren(path) {
  if (rowOf(path) && state.expanded.has(path)) await loadChildren(path);
  else if (rowOf(path)) await loadChildren(path); // updates the count and toggle
}

async function reveal(path) {
  const parts = path === '/' ? [] : path.slice(1).split('/');
  let p = '/';
  state.expanded.add('/');
  await loadChildren('/');
  for (let i = 0; i < parts.length - 1; i++) {
    p = childPath(p, parts[i]);
    state.expanded.add(p);
    await loadChildren(p);
  }
  await select(path);
  const li = rowOf(path);
  if (li) li.scrollIntoView({ block: 'nearest' });
}

function markSelected() {
  for (const r of document.querySelectorAll('.row.selected')) r.classList.remove('selected');
  const li = state.selected && rowOf(state.selected);
  if (li) li.firstChild.classList.add('selected');
}

function flash(path) {
  const li = rowOf(path);
  if (!li) return;
  const row = li.firstChild;
  row.classList.remove('flash');
  void row.offsetWidth; // restart the animation
  row.classList.add('flash');
}

// ---- the details pane -----------------------------------------------------------------------

function decode(b64) {
  if (b64 === null) return null;
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function hexDump(bytes) {
  const lines = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.slice(off, off + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(off.toString(16).padStart(8, '0') + '  ' + hex.padEnd(47) + '  |' + ascii + '|');
  }
  return lines.join('\n');
}

function renderData(bytes) {
  if (bytes === null) return { text: '(null)', cls: 'hint' };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (state.view === 'hex') return { text: bytes.length ? hexDump(bytes) : '(empty)' };
  if (state.view === 'json') {
    try {
      return { text: JSON.stringify(JSON.parse(text), null, 2) };
    } catch (e) {
      return { text: 'not JSON: ' + e.message, cls: 'error' };
    }
  }
  return { text: bytes.length ? text : '(empty)', cls: bytes.length ? '' : 'hint' };
}

function fmtTime(ms) {
  return ms ? new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC') : '0';
}

function renderDetails() {
  const n = state.node;
  const d = $('details');
  const open = n && state.dirty === n.path ? d.querySelector('.edit') : null;
  d.replaceChildren();
  if (!n) return;
  d.append(el('h2', { id: 'node-path' }, n.path));
  if (n.gone) {
    d.append(el('p', { class: 'error' }, 'This znode was deleted.'));
    return;
  }
  const bytes = n.data === null || n.data === undefined ? null : decode(n.data);
  const tabs = el('div', { class: 'tabs' });
  for (const v of ['text', 'json', 'hex']) {
    tabs.append(el('button', { type: 'button', class: v === state.view ? 'active' : '', 'data-view': v, onclick: () => { state.view = v; renderDetails(); } }, v.toUpperCase()));
  }
  d.append(tabs);
  if (n.dataError) d.append(el('pre', { class: 'data error', id: 'node-data' }, n.dataError));
  else {
    const r = renderData(bytes);
    d.append(el('pre', { class: 'data ' + (r.cls || ''), id: 'node-data' }, r.text));
  }
  const grid = el('div', { class: 'grid' });
  if (n.stat) {
    const t = el('table', { id: 'node-stat' }, el('tr', {}, el('th', { colspan: 2 }, 'Stat')));
    for (const [k, v] of Object.entries(n.stat)) {
      t.append(el('tr', {}, el('td', {}, k), el('td', { class: 'mono' }, k.endsWith('time') ? fmtTime(v) : String(v))));
    }
    grid.append(t);
  }
  const acl = el('table', { id: 'node-acl' }, el('tr', {}, el('th', {}, 'ACL scheme'), el('th', {}, 'id'), el('th', {}, 'perms')));
  if (n.acl) for (const a of n.acl) acl.append(el('tr', {}, el('td', {}, a.scheme), el('td', { class: 'mono' }, a.id), el('td', { class: 'mono' }, a.perms)));
  else acl.append(el('tr', {}, el('td', { colspan: 3, class: 'error' }, n.aclError || 'not readable')));
  grid.append(acl);
  d.append(grid);
  if (open) {
    // unsaved text stays, with the version it was begun against: a save is refused with BadVersion
    open.querySelector('#edit-status').textContent = 'changed since you began editing (now version ' + (n.stat ? n.stat.version : '?') + ')';
    d.append(open);
  } else if (state.canEdit) d.append(editPanel(n, bytes));
  else d.append(el('p', { class: 'hint' }, editHint));
}

let editHint = '';

function editPanel(n, bytes) {
  const p = el('div', { class: 'edit' });
  const status = el('div', { id: 'edit-status', class: 'hint' });
  const text = el('textarea', { id: 'edit-data' });
  text.value = bytes === null ? '' : new TextDecoder().decode(bytes);
  text.addEventListener('input', () => { state.dirty = n.path; });
  const version = n.stat ? n.stat.version : -1;
  const done = (msg, err) => { status.textContent = msg; status.className = err ? 'error' : 'hint'; };
  const post = async (op, body) => {
    try {
      const r = await api(op, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', 'X-Zkts-Ui': '1' } });
      return r;
    } catch (e) {
      done(op + ': ' + e.message, true);
      return null;
    }
  };
  const save = el('button', { type: 'button', id: 'edit-save', onclick: async () => {
    const r = await post('set', { path: n.path, data: text.value, version });
    if (r) { state.dirty = null; done('saved: version ' + r.stat.version); await select(n.path); }
  } }, 'Save (version ' + version + ')');
  const name = el('input', { id: 'create-name', placeholder: 'child name', size: 14 });
  const mode = el('select', { id: 'create-mode' }, ...['persistent', 'persistent_sequential', 'container'].map((m) => el('option', { value: m }, m)));
  const aclSel = el('select', { id: 'create-acl' }, ...['open', 'creator', 'read_only'].map((m) => el('option', { value: m }, m)));
  const create = el('button', { type: 'button', id: 'create-btn', onclick: async () => {
    if (!name.value) return done('give the child a name', true);
    const r = await post('create', { path: childPath(n.path, name.value), data: '', mode: mode.value, acl: aclSel.value });
    if (r) { done('created ' + r.path); state.expanded.add(n.path); await loadChildren(n.path); }
  } }, 'Create child');
  const del = el('button', { type: 'button', class: 'danger', id: 'delete-btn', onclick: async () => {
    if (!confirm('Delete ' + n.path + ' (version ' + version + ')?')) return;
    const r = await post('delete', { path: n.path, version });
    if (r) { done('deleted'); await refreshChildren(parentOf(n.path)); await select(parentOf(n.path)); }
  } }, 'Delete');
  p.append(el('div', { class: 'line' }, el('strong', {}, 'Edit data (text)')), text,
    el('div', { class: 'line' }, save, n.path === '/' ? null : del),
    el('div', { class: 'line' }, name, mode, aclSel, create), status);
  return p;
}

async function select(path, live) {
  if (!live) state.dirty = null;
  state.selected = path;
  markSelected();
  try {
    state.node = await api('node?path=' + q(path));
  } catch (e) {
    state.node = e.status === 404 ? { path, gone: true } : { path, dataError: e.message, aclError: e.message };
  }
  if (state.selected === path) renderDetails();
}

// ---- search ---------------------------------------------------------------------------------

async function search(needle) {
  const box = $('results');
  box.classList.remove('hidden');
  box.replaceChildren(el('div', { class: 'note' }, 'searching…'));
  let r;
  try {
    r = await api('search?path=/&q=' + q(needle));
  } catch (e) {
    box.replaceChildren(el('div', { class: 'note error' }, e.message));
    return;
  }
  box.replaceChildren(el('div', { class: 'note' }, r.matches.length + ' match' + (r.matches.length === 1 ? '' : 'es') + ' in ' + r.visited + ' znodes' + (r.truncated ? ' (stopped early)' : '')));
  for (const m of r.matches) box.append(el('a', { href: '#' + m, 'data-path': m, onclick: (ev) => { ev.preventDefault(); void reveal(m); } }, m));
}

// ---- live changes ---------------------------------------------------------------------------

function setLive(on, text) {
  const l = $('live');
  l.className = 'live ' + (on ? 'on' : 'off');
  l.textContent = text;
}

function onChange(ev) {
  const li = el('li', {}, new Date().toLocaleTimeString() + '  ' + ev.type + '  ' + ev.path + '  ' + ev.zxid);
  const list = $('events');
  list.prepend(li);
  while (list.children.length > 50) list.lastChild.remove();
  if (ev.type === 'NodeCreated' || ev.type === 'NodeDeleted') void refreshChildren(parentOf(ev.path)).then(() => flash(ev.path));
  else flash(ev.path);
  if (state.selected === ev.path || (ev.type === 'NodeDeleted' && state.selected && state.selected.startsWith(ev.path + '/'))) void select(state.selected, true);
}

// The event stream is read with fetch (EventSource cannot send the Authorization header).
async function follow() {
  if (state.stream) state.stream.abort();
  const ctl = new AbortController();
  state.stream = ctl;
  let delayMs = 500;
  while (!ctl.signal.aborted) {
    try {
      const r = await fetch(API + 'events?path=/', { headers: headers({ Accept: 'text/event-stream' }), signal: ctl.signal, cache: 'no-store' });
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const msg = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of msg.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          if (event === 'ready') { setLive(true, 'live'); delayMs = 500; }
          else if (event === 'change') onChange(JSON.parse(data));
        }
      }
      setLive(false, 'reconnecting');
    } catch (e) {
      if (ctl.signal.aborted) return;
      setLive(false, 'offline: ' + e.message);
    }
    await new Promise((res) => setTimeout(res, delayMs));
    delayMs = Math.min(delayMs * 2, 10000);
  }
}

// ---- identity -------------------------------------------------------------------------------

async function whoami() {
  let w;
  try {
    w = await api('whoami');
  } catch (e) {
    if (e.status === 401 && state.auth) {
      state.auth = null;
      sessionStorage.removeItem('zkts-ui-auth');
      alert('Sign-in failed: ' + e.message);
      return whoami();
    }
    $('who').textContent = e.message;
    return;
  }
  $('who').textContent = w.ids.map((i) => i.scheme + ':' + i.id).join(', ');
  state.canEdit = w.canEdit;
  editHint = !w.editEnabled ? 'Read-only: editing is off (zkts.admin.ui.edit).' : w.authenticated ? '' : 'Sign in to edit.';
  $('login').classList.toggle('hidden', !!state.auth);
  $('logout').classList.toggle('hidden', !state.auth);
}

async function start() {
  await whoami();
  await loadChildren('/');
  await select(state.selected || '/');
  void follow();
}

$('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.auth = $('login-user').value + ':' + $('login-pass').value;
  sessionStorage.setItem('zkts-ui-auth', state.auth);
  $('login-pass').value = '';
  void start();
});
$('logout').addEventListener('click', () => {
  state.auth = null;
  sessionStorage.removeItem('zkts-ui-auth');
  void start();
});
$('search').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void search($('search-q').value);
});

document.getElementById('tree').append(makeItem('/'));
void start();
