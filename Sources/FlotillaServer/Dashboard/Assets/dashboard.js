// Flotilla's dashboard: the daemon's JSON API and event stream, drawn. Plain JavaScript, no dependencies.
// Everything agents or repositories wrote is shown as text (textContent), never as HTML.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const LAYER_CAP = 40; // groups drawn per DAG layer before the rest fold into one "more" node
const state = { token: sessionStorage.getItem('flotilla.token') || '', view: null };

function h(tag, attributes, ...children) {
  const element = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'text') element.textContent = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const money = (usd) => '$' + (usd || 0).toFixed(usd >= 100 ? 0 : usd >= 1 ? 2 : 4);
const seconds = (s) => {
  if (s === null || s === undefined) return '—';
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
};
const age = (date) => seconds((Date.now() - new Date(date).getTime()) / 1000) + ' ago';
const tokens = (n) => (n >= 1000 ? (n / 1000).toFixed(1) + 'k' : String(n || 0));
const outcomeClass = (a) => !a.outcome ? 'running' : a.outcome === 'landed' ? 'landed'
  : ['gate_failed', 'rejected', 'regression', 'timed_out', 'agent_failed'].includes(a.outcome) ? 'failed' : 'other';

class APIError extends Error {}

async function api(path, options = {}) {
  const headers = Object.assign({ Accept: 'application/json' }, options.headers || {});
  if (state.token) headers.Authorization = 'Bearer ' + state.token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    askForToken();
    throw new APIError('this daemon needs an API token: enter it at the top right');
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new APIError((body.error && body.error.message) || response.status + ' ' + response.statusText);
  return body;
}

function askForToken() {
  const form = document.getElementById('token-form');
  form.hidden = false;
  document.getElementById('token').focus();
}

function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    document.getElementById('confirm-ok').focus();
  });
}

/** Asks for a rejection's reason; resolves to the text, or null when cancelled or left empty. */
function askReason(text) {
  const dialog = document.getElementById('reject');
  const field = document.getElementById('reject-reason');
  document.getElementById('reject-text').textContent = text;
  field.value = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' && field.value.trim() ? field.value.trim() : null), { once: true });
    dialog.showModal();
    field.focus();
  });
}

function setConnection(text) { document.getElementById('connection').textContent = text; }

// ---- Missions ---------------------------------------------------------------------------------------------------

function missionsView() {
  const filter = h('select', { id: 'state-filter', 'aria-label': 'Filter by state' },
    ['all', 'running', 'created', 'completed', 'blocked', 'failed', 'stopped', 'crashed'].map((s) => h('option', { value: s, text: s })));
  filter.value = sessionStorage.getItem('flotilla.filter') || 'all';
  const body = h('tbody');
  const message = h('p', { class: 'muted', id: 'missions-message' });
  const main = document.getElementById('main');
  main.replaceChildren(
    h('div', { class: 'toolbar' }, h('h1', { text: 'Missions' }), h('label', {}, 'State ', filter)),
    h('table', { id: 'missions' },
      h('thead', {}, h('tr', {}, ['Mission', 'Goal', 'State', 'Progress', 'Cost', 'Attempts', 'Created'].map((t) => h('th', { text: t })))),
      body),
    message);
  let missions = [];
  const draw = () => {
    const shown = missions.filter((m) => filter.value === 'all' || m.state === filter.value);
    body.replaceChildren(...shown.map((m) => {
      const open = () => { location.hash = '#/missions/' + m.id; };
      return h('tr', { tabindex: 0, 'data-mission': m.id, onclick: open, onkeydown: (e) => { if (e.key === 'Enter') open(); } },
        h('td', {}, h('a', { href: '#/missions/' + m.id, text: m.id })),
        h('td', { text: m.goal }),
        h('td', {}, h('span', { class: 'badge ' + m.state, text: m.state })),
        h('td', { class: 'num' }, h('span', { class: 'bar' }, barFill(m.groups_done, m.groups_total)), ' ', m.groups_done + '/' + m.groups_total),
        h('td', { class: 'num', text: money(m.cost_usd) }),
        h('td', { class: 'num', text: m.attempts }),
        h('td', { class: 'num', text: age(m.created_at) }));
    }));
    message.textContent = shown.length ? '' : missions.length ? 'No mission is ' + filter.value + '.' : 'No missions yet: start one with `flotilla run` or POST /missions.';
  };
  filter.addEventListener('change', () => { sessionStorage.setItem('flotilla.filter', filter.value); draw(); });
  const refresh = async () => {
    try { missions = (await api('/missions')).missions; draw(); setConnection('updated ' + new Date().toLocaleTimeString()); }
    catch (error) { message.textContent = error.message; message.className = 'error'; }
  };
  refresh();
  const timer = setInterval(refresh, 2000);
  return { close: () => clearInterval(timer) };
}

function barFill(done, total) {
  const fill = h('i');
  fill.style.width = (total ? Math.min(100, (100 * done) / total) : 0) + '%';
  return fill;
}

// ---- One mission ------------------------------------------------------------------------------------------------

function missionView(id, selectedAttempt) {
  const view = { id, mission: null, attempts: [], events: new Map(), lastEventID: 0, selected: selectedAttempt, closed: false,
    controller: new AbortController(), dag: null, timer: null, detailTimer: null };
  const main = document.getElementById('main');
  view.root = {
    title: h('h1', { id: 'mission-goal' }), sub: h('p', { class: 'muted', id: 'mission-sub' }), actions: h('div', { class: 'actions' }),
    meters: h('div', { class: 'meters', id: 'meters' }), dag: h('div', { class: 'scroll', id: 'dag' }),
    lanes: h('div', { class: 'scroll', id: 'lanes' }), burn: h('div', { id: 'burn' }), attempts: h('tbody'),
    detail: h('section', { class: 'panel', id: 'attempt-detail', hidden: true }), events: h('ol', { id: 'events' }),
    eventCount: h('span', { class: 'muted', id: 'event-count' }), error: h('p', { class: 'error', role: 'alert' }),
  };
  const r = view.root;
  main.replaceChildren(
    h('p', {}, h('a', { href: '#/', text: '← Missions' })),
    h('div', { class: 'head' }, h('div', {}, r.title, r.sub), r.actions), r.error, r.meters,
    h('section', { class: 'panel' }, h('h2', { text: 'Checklist' }), r.dag, legend([['pending', 'pending'], ['ready', 'ready (frontier)'], ['active', 'in progress'], ['done', 'done'], ['blocked', 'blocked']])),
    h('div', { class: 'grid2' },
      h('section', { class: 'panel' }, h('h2', { text: 'Agent lanes' }), r.lanes, legend([['landed', 'landed'], ['failed', 'failed'], ['running', 'running'], ['other', 'other']])),
      h('section', { class: 'panel' }, h('h2', { text: 'Cost over time' }), r.burn)),
    r.detail,
    h('section', { class: 'panel' }, h('h2', { text: 'Attempts' }),
      h('div', { class: 'scroll' }, h('table', { id: 'attempts' },
        h('thead', {}, h('tr', {}, ['#', 'Group', 'Try', 'Slot', 'Outcome', 'Reason', 'Cost', 'Tokens', 'Agent', 'Gate'].map((t) => h('th', { text: t })))),
        r.attempts))),
    h('section', { class: 'panel' }, h('h2', {}, 'Events ', r.eventCount), h('div', { class: 'events' }, r.events)));

  view.refresh = throttle(() => refreshMission(view), 400);
  refreshMission(view).then(() => { if (view.selected) showAttempt(view, view.selected); });
  follow(view);
  view.timer = setInterval(() => drawMeters(view), 1000);
  view.close = () => {
    view.closed = true;
    view.controller.abort();
    clearInterval(view.timer);
    clearTimeout(view.detailTimer);
  };
  return view;
}

function legend(items) {
  return h('div', { class: 'legend' }, items.map(([cls, label]) => {
    const swatch = h('i');
    swatch.style.background = 'var(--' + cls + ')';
    return h('span', {}, swatch, label);
  }));
}

function throttle(action, ms) {
  let pending = null;
  let last = 0;
  return () => {
    if (pending) return;
    const wait = Math.max(0, last + ms - Date.now());
    pending = setTimeout(() => { pending = null; last = Date.now(); action(); }, wait);
  };
}

async function refreshMission(view) {
  // While the stream is down the daemon is likely gone: the stream's reconnection refreshes instead.
  if (view.mission && view.connected === false) return;
  try {
    const [mission, history] = await Promise.all([api('/missions/' + view.id), api('/missions/' + view.id + '/attempts')]);
    if (view.closed) return;
    view.mission = mission;
    view.attempts = history.attempts;
    view.root.error.textContent = '';
    const drawing = performance.now();
    drawHeader(view);
    drawMeters(view);
    drawDAG(view);
    drawLanes(view);
    drawBurn(view);
    drawAttempts(view);
    if (view.openGroup && !view.selected) showGroup(view, view.openGroup);
    // When the page first showed the mission, and how long drawing it took: what the browser tests measure.
    if (!document.body.dataset.rendered) {
      document.body.dataset.drawMs = String(Math.round(performance.now() - drawing));
      document.body.dataset.rendered = String(Math.round(performance.now()));
    }
  } catch (error) {
    view.root.error.textContent = error.message;
  }
}

function drawHeader(view) {
  const m = view.mission;
  const r = view.root;
  r.title.textContent = m.goal;
  r.sub.replaceChildren(h('span', { class: 'badge ' + m.state, id: 'mission-state', text: m.state }), ' ', m.id, ' · ', m.backend,
    ' · target ', m.target_branch, m.stop_reason ? ' · ' + m.stop_reason : '', m.breaker ? ' · ' + m.breaker : '');
  const act = (label, confirmText, path, body, danger) => h('button', { class: danger ? 'danger' : null, 'data-action': label.toLowerCase().split(' ')[0],
    onclick: async () => {
      if (!(await confirmAction(confirmText))) return;
      try {
        await api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body || {}) });
        view.refresh();
        follow(view); // a resumed or approved mission has more events; following twice is a no-op
      } catch (error) { view.root.error.textContent = error.message; }
    } }, label);
  // Redrawn only when the state (or what waits for a human) changes: a button must not be replaced under the pointer
  // while events stream.
  const waiting = m.awaiting_approval || [];
  const key = m.state + ' ' + waiting.join(',');
  if (r.actions.dataset.state === key) return;
  r.actions.dataset.state = key;
  const running = m.state === 'running' || m.state === 'created';
  const what = waiting.map((w) => w === 'mission' ? 'the finished mission' : 'the landing of ' + w).join(', ');
  r.actions.replaceChildren(...[
    waiting.length ? h('span', { class: 'badge blocked', id: 'awaiting', text: 'waiting for you: ' + waiting.join(', ') }) : null,
    waiting.length ? act('Approve', 'Approve ' + what + '? Open its attempt first to see the diff and gate output.', '/missions/' + m.id + '/approve', { groups: [] }) : null,
    waiting.length ? h('button', { class: 'danger', 'data-action': 'reject', onclick: async () => {
      const reason = await askReason('Reject ' + what + '? The reason goes to the next attempt.');
      if (reason === null) return;
      try {
        await api('/missions/' + m.id + '/reject', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ reason }) });
        view.refresh();
      } catch (error) { view.root.error.textContent = error.message; }
    } }, 'Reject') : null,
    running ? act('Stop', 'Stop mission ' + m.id + '? Running attempts are ended and recorded.', '/missions/' + m.id + '/stop?wait=30', null, true) : null,
    !running && m.state !== 'completed' ? act('Resume', 'Resume mission ' + m.id + '?', '/missions/' + m.id + '/resume') : null,
    m.state === 'blocked' ? act('Approve', 'Approve every blocked group of ' + m.id + ' and resume it?', '/missions/' + m.id + '/approve', { groups: [] }) : null,
  ].filter(Boolean));
}

function drawMeters(view) {
  const m = view.mission;
  if (!m) return;
  const limits = m.limits || {};
  const start = new Date(m.started_at || m.created_at).getTime();
  const end = m.finished_at ? new Date(m.finished_at).getTime() : Date.now();
  const elapsed = Math.max(0, (end - start) / 1000);
  const finished = view.attempts.filter((a) => a.finished_at);
  const estimate = finished.length ? finished.reduce((s, a) => s + a.cost_usd, 0) / finished.length : null;
  const meter = (id, label, value, detail, fraction) => {
    const fill = h('i', { class: fraction > 1 ? 'over' : null });
    fill.style.width = Math.min(100, 100 * (fraction || 0)) + '%';
    return h('div', { class: 'meter', id }, h('span', { class: 'muted', text: label }), h('b', { text: value }),
      fraction === null ? h('span', { class: 'muted', text: detail }) : h('span', {}, h('span', { class: 'bar' }, fill), ' ', h('span', { class: 'muted', text: detail })));
  };
  view.root.meters.replaceChildren(
    meter('meter-groups', 'Groups done', m.groups_done + ' / ' + m.groups_total, '', m.groups_total ? m.groups_done / m.groups_total : 0),
    meter('meter-cost', 'Cost', money(m.cost_usd), limits.max_cost_usd ? 'of ' + money(limits.max_cost_usd) : 'no cost limit',
      limits.max_cost_usd ? m.cost_usd / limits.max_cost_usd : null),
    meter('meter-time', 'Time', seconds(elapsed), limits.max_seconds ? 'of ' + seconds(limits.max_seconds) : 'no time limit',
      limits.max_seconds ? elapsed / limits.max_seconds : null),
    meter('meter-attempts', 'Attempts', String(m.attempts), limits.max_attempts ? 'of ' + limits.max_attempts : 'no attempt limit',
      limits.max_attempts ? m.attempts / limits.max_attempts : null),
    meter('meter-next', 'Next dispatch', estimate === null ? '—' : '≈ ' + money(estimate), 'mean of finished attempts', null));
}

// The checklist as a layered DAG. Drawn once per shape; later updates only change each node's class, so nothing moves
// while events stream in.
function drawDAG(view) {
  const groups = view.mission.groups || [];
  const status = new Map(groups.map((g) => [g.id, g.status]));
  const classOf = (g) => g.status === 'pending' && g.depends_on.every((d) => status.get(d) === 'done') ? 'ready' : g.status;
  const shape = groups.map((g) => g.id + ':' + g.depends_on.join(',')).join(';') + '|' + [...(view.expanded || [])].join(',');
  if (view.dag && view.dag.shape === shape) {
    for (const g of groups) {
      const node = view.dag.nodes.get(g.id);
      if (node) node.setAttribute('class', 'node ' + classOf(g));
    }
    for (const [layer, more] of view.dag.more) more.querySelector('text').textContent = moreLabel(view.dag.hidden.get(layer), status);
    return;
  }
  view.expanded = view.expanded || new Set();
  const layers = [];
  for (const g of groups) (layers[g.layer || 0] = layers[g.layer || 0] || []).push(g);
  const W = 150, H = 26, GX = 60, GY = 8;
  const position = new Map();
  const hidden = new Map();
  let rows = 0;
  layers.forEach((members, x) => {
    const shown = view.expanded.has(x) ? members : members.slice(0, LAYER_CAP);
    shown.forEach((g, y) => position.set(g.id, { x: x * (W + GX), y: y * (H + GY) }));
    if (shown.length < members.length) hidden.set(x, members.slice(LAYER_CAP));
    rows = Math.max(rows, shown.length + (shown.length < members.length ? 1 : 0));
  });
  const width = Math.max(1, layers.length) * (W + GX);
  const height = Math.max(1, rows) * (H + GY);
  const svg = h('svg:svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Checklist DAG' });
  const edges = h('svg:g');
  svg.append(edges);
  const nodes = new Map();
  const more = new Map();
  for (const g of groups) {
    const to = position.get(g.id);
    if (!to) continue;
    for (const dep of g.depends_on) {
      const from = position.get(dep);
      if (!from) continue;
      const x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x, y2 = to.y + H / 2;
      edges.append(h('svg:path', { class: 'edge', d: `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}` }));
    }
    const open = () => showGroup(view, g.id);
    const node = h('svg:g', { class: 'node ' + classOf(g), 'data-group': g.id, tabindex: 0, role: 'button', 'aria-label': g.id + ' ' + g.status,
      transform: `translate(${to.x},${to.y})`, onclick: open, onkeydown: (e) => { if (e.key === 'Enter') open(); } },
    h('svg:rect', { width: W, height: H, rx: 5 }), h('svg:text', { x: 8, y: 17, text: clip(g.id + ' · ' + g.title, 22) }), h('svg:title', { text: g.id + ' — ' + g.title + ' (' + g.status + ')' }));
    nodes.set(g.id, node);
    svg.append(node);
  }
  for (const [x, rest] of hidden) {
    const y = LAYER_CAP * (H + GY);
    const node = h('svg:g', { class: 'more', tabindex: 0, role: 'button', transform: `translate(${x * (W + GX)},${y})`,
      onclick: () => { view.expanded.add(x); drawDAG(view); } },
    h('svg:rect', { width: W, height: H, rx: 5 }), h('svg:text', { x: 8, y: 17, text: moreLabel(rest, status) }));
    more.set(x, node);
    svg.append(node);
  }
  view.dag = { shape, nodes, more, hidden };
  view.root.dag.replaceChildren(svg);
}

const clip = (text, n) => (text.length > n ? text.slice(0, n - 1) + '…' : text);
function moreLabel(rest, status) {
  const done = rest.filter((g) => status.get(g.id) === 'done').length;
  return '+' + rest.length + ' more (' + done + ' done)';
}

function showGroup(view, groupID) {
  const g = (view.mission.groups || []).find((x) => x.id === groupID);
  if (!g) return;
  view.openGroup = groupID;
  const r = view.root;
  const tries = view.attempts.filter((a) => a.group === g.id);
  // Redrawn only when something in it changed, so that its buttons stay put.
  const key = g.id + ':' + g.status + ':' + tries.map((a) => a.outcome || a.phase).join(',');
  if (!r.detail.hidden && r.detail.dataset.key === key) return;
  r.detail.dataset.key = key;
  r.detail.hidden = false;
  r.detail.replaceChildren(
    h('div', { class: 'head' }, h('h2', { text: 'Group ' + g.id + ' — ' + g.title }),
      h('div', { class: 'actions' },
        g.status === 'blocked' ? h('button', { 'data-action': 'approve-group', onclick: async () => {
          if (!(await confirmAction('Approve group ' + g.id + ' and resume the mission?'))) return;
          try {
            await api('/missions/' + view.id + '/approve', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ groups: [g.id] }) });
            view.refresh();
            follow(view);
          } catch (error) { r.error.textContent = error.message; }
        } }, 'Approve group') : null,
        h('button', { onclick: () => { r.detail.hidden = true; view.openGroup = null; } }, 'Close'))),
    h('p', {}, h('span', { class: 'badge ' + g.status, text: g.status }), ' ', g.blocked_reason || '', g.added_by ? ' (added by the ' + g.added_by + ')' : ''),
    h('ul', {}, g.criteria.map((c) => h('li', { text: c }))),
    h('p', { class: 'muted' }, 'Depends on: ' + (g.depends_on.join(', ') || 'nothing') + ' · check: ' + (g.check || 'the mission verify command')),
    h('p', {}, tries.length ? 'Attempts: ' : 'No attempts yet.', tries.map((a) => h('a', { href: '#/missions/' + view.id + '/attempts/' + a.sequence, text: '#' + a.number + ' ' + (a.outcome || a.phase) + ' ' }))));
}

function drawLanes(view) {
  const attempts = view.attempts;
  const m = view.mission;
  const start = new Date(m.started_at || m.created_at).getTime();
  const now = m.finished_at ? new Date(m.finished_at).getTime() : Date.now();
  const span = Math.max(1, now - start);
  const slots = Math.max(m.agents, ...attempts.map((a) => a.slot), 1); // slots count from 1
  const W = 600, LANE = 22, LEFT = 48;
  const x = (t) => LEFT + ((W - LEFT) * (t - start)) / span;
  const landings = landingSpans(view);
  const svg = h('svg:svg', { width: W, height: slots * LANE + 18, viewBox: `0 0 ${W} ${slots * LANE + 18}`, role: 'img', 'aria-label': 'Agent lanes' });
  for (let s = 0; s < slots; s++) {
    svg.append(h('svg:text', { x: 0, y: s * LANE + 15, text: 'slot ' + (s + 1) }), h('svg:line', { class: 'axis', x1: LEFT, x2: W, y1: s * LANE + LANE, y2: s * LANE + LANE }));
  }
  for (const a of attempts) {
    const t0 = new Date(a.started_at).getTime();
    const t1 = a.finished_at ? new Date(a.finished_at).getTime() : now;
    const y = (a.slot - 1) * LANE + 3;
    const width = Math.max(2, x(t1) - x(t0));
    const open = () => { location.hash = '#/missions/' + view.id + '/attempts/' + a.sequence; };
    const bar = h('svg:g', { class: 'attempt', 'data-sequence': a.sequence, tabindex: 0, role: 'button', onclick: open, onkeydown: (e) => { if (e.key === 'Enter') open(); } },
      h('svg:rect', { class: 'span ' + outcomeClass(a), x: x(t0), y, width, height: LANE - 6, rx: 3 }),
      h('svg:title', { text: a.group + ' #' + a.number + ': ' + (a.outcome || a.phase) + (a.reason ? ' — ' + a.reason : '') }));
    if (a.gate_seconds) {
      const g0 = x(t0 + (a.agent_seconds || 0) * 1000);
      bar.append(h('svg:rect', { class: 'gate', x: g0, y, width: Math.max(1, Math.min(x(t1), g0 + ((W - LEFT) * a.gate_seconds * 1000) / span) - g0), height: LANE - 6 }));
    }
    const landing = landings.get(a.group + '#' + a.number);
    if (landing) bar.append(h('svg:rect', { class: 'landing', x: x(landing[0]), y: y + LANE - 9, width: Math.max(2, x(landing[1]) - x(landing[0])), height: 3 }));
    svg.append(bar);
  }
  view.root.lanes.replaceChildren(svg);
}

function landingSpans(view) {
  const spans = new Map();
  const started = new Map();
  for (const e of [...view.events.values()].sort((a, b) => a.id - b.id)) {
    const key = e.group + '#' + e.attempt;
    if (e.kind === 'merge.started') started.set(key, new Date(e.at).getTime());
    if (e.kind === 'attempt.landed' && started.has(key)) spans.set(key, [started.get(key), new Date(e.at).getTime()]);
  }
  return spans;
}

function drawBurn(view) {
  const m = view.mission;
  const limits = m.limits || {};
  const start = new Date(m.started_at || m.created_at).getTime();
  const points = view.attempts.filter((a) => a.finished_at).map((a) => [new Date(a.finished_at).getTime(), a.cost_usd]).sort((a, b) => a[0] - b[0]);
  let total = 0;
  const curve = [[start, 0]].concat(points.map(([t, c]) => [t, (total += c)]));
  const now = m.finished_at ? new Date(m.finished_at).getTime() : Date.now();
  // The time limit is drawn once the mission has used a third of it; before, it would squash the curve.
  const timeLimit = limits.max_seconds && (now - start) / 1000 > limits.max_seconds / 3 ? start + limits.max_seconds * 1000 : null;
  const end = Math.max(now, timeLimit || 0, start + 1000);
  const top = Math.max(limits.max_cost_usd || 0, m.cost_usd, total, 0.0001) * 1.1;
  const W = 600, H = 160, L = 56;
  const x = (t) => L + ((W - L) * (t - start)) / (end - start);
  const y = (c) => H - 16 - ((H - 24) * c) / top;
  const svg = h('svg:svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Cost over time' },
    h('svg:line', { class: 'axis', x1: L, x2: W, y1: y(0), y2: y(0) }), h('svg:line', { class: 'axis', x1: L, x2: L, y1: 4, y2: y(0) }),
    h('svg:text', { x: 0, y: y(top / 1.1) + 4, text: money(top / 1.1) }), h('svg:text', { x: 0, y: y(0), text: '$0' }),
    h('svg:text', { x: W - 60, y: H - 2, text: seconds((end - start) / 1000) }));
  if (limits.max_cost_usd) svg.append(h('svg:line', { class: 'limit', x1: L, x2: W, y1: y(limits.max_cost_usd), y2: y(limits.max_cost_usd) }), h('svg:text', { x: L + 4, y: y(limits.max_cost_usd) - 3, text: 'cost limit' }));
  if (timeLimit) svg.append(h('svg:line', { class: 'limit', x1: x(timeLimit), x2: x(timeLimit), y1: 4, y2: y(0) }), h('svg:text', { x: x(timeLimit) - 52, y: 14, text: 'time limit' }));
  let d = '';
  curve.forEach(([t, c], i) => { d += (i ? ` H${x(t)} V${y(c)}` : `M${x(t)},${y(c)}`); });
  d += ` H${x(now)}`;
  svg.append(h('svg:path', { class: 'curve', d }));
  view.root.burn.replaceChildren(svg);
}

function drawAttempts(view) {
  view.root.attempts.replaceChildren(...view.attempts.map((a) => {
    const open = () => { location.hash = '#/missions/' + view.id + '/attempts/' + a.sequence; };
    return h('tr', { tabindex: 0, 'data-sequence': a.sequence, class: String(view.selected) === String(a.sequence) ? 'selected' : null, onclick: open, onkeydown: (e) => { if (e.key === 'Enter') open(); } },
      h('td', { class: 'num', text: a.sequence }), h('td', { text: a.group }), h('td', { class: 'num', text: a.number }), h('td', { class: 'num', text: a.slot }),
      h('td', {}, h('span', { class: 'badge ' + (a.outcome || 'running'), text: a.outcome || a.phase })), h('td', { text: clip(a.reason || '', 90) }),
      h('td', { class: 'num', text: money(a.cost_usd) }), h('td', { class: 'num', text: tokens(a.input_tokens + a.output_tokens) }),
      h('td', { class: 'num', text: seconds(a.agent_seconds) }), h('td', { class: 'num', text: seconds(a.gate_seconds) }));
  }));
}

// ---- One attempt ------------------------------------------------------------------------------------------------

async function showAttempt(view, sequence) {
  view.selected = sequence;
  view.openGroup = null;
  drawAttempts(view);
  const r = view.root;
  r.detail.hidden = false;
  r.detail.dataset.key = '';
  let tab = view.tab || 'diff';
  const load = async () => {
    try {
      const detail = await api('/missions/' + view.id + '/attempts/' + sequence);
      if (view.closed || String(view.selected) !== String(sequence)) return;
      draw(detail);
      clearTimeout(view.detailTimer);
      if (!detail.attempt.finished_at) view.detailTimer = setTimeout(load, 1500); // the transcript grows while it runs
    } catch (error) { r.detail.replaceChildren(h('p', { class: 'error', text: error.message })); }
  };
  const draw = (detail) => {
    const a = detail.attempt;
    const tabs = [['diff', 'Diff'], ['gate', 'Gate output'], ['feedback', 'Why it failed / critic'], ['transcript', 'Transcript'], ['prompt', 'Prompt']];
    const body = h('div', { id: 'attempt-body' });
    const pick = (name) => {
      tab = view.tab = name;
      for (const b of bar.children) b.setAttribute('aria-selected', String(b.dataset.tab === name));
      body.replaceChildren(content(detail, name));
    };
    const bar = h('div', { class: 'tabs', role: 'tablist' }, tabs.map(([name, label]) => h('button', { role: 'tab', 'data-tab': name, onclick: () => pick(name) }, label)));
    const where = a.outcome === 'landed' ? 'landed as ' + (a.landed_commit || '').slice(0, 12) : a.outcome ? a.outcome + (a.reason ? ': ' + a.reason : '') : 'running (' + a.phase + ')';
    r.detail.replaceChildren(
      h('div', { class: 'head' }, h('h2', { text: 'Attempt ' + a.group + ' #' + a.number + ' (' + a.backend + ', slot ' + a.slot + ')' }),
        h('div', { class: 'actions' }, h('button', { onclick: () => { location.hash = '#/missions/' + view.id; } }, 'Close'))),
      h('p', { id: 'attempt-outcome' }, h('span', { class: 'badge ' + (a.outcome || 'running'), text: a.outcome || a.phase }), ' ', where,
        ' · ', money(a.cost_usd), ' · ', tokens(a.input_tokens) + ' in / ' + tokens(a.output_tokens) + ' out',
        a.files_changed !== undefined && a.files_changed !== null ? ' · ' + a.files_changed + ' files +' + a.insertions + ' −' + a.deletions : ''),
      bar, body);
    pick(tab);
  };
  await load();
  r.detail.scrollIntoView({ block: 'nearest' });
}

function content(detail, tab) {
  const text = { diff: detail.diff, gate: detail.gate_output, feedback: detail.feedback, transcript: detail.transcript, prompt: detail.prompt }[tab];
  if (!text) return h('p', { class: 'muted', text: tab === 'feedback' ? 'No feedback: the attempt did not fail (or has not finished).' : 'Nothing recorded (yet).' });
  return tab === 'diff' ? diffView(text) : h('pre', { class: 'code', id: 'attempt-' + tab, text });
}

const KEYWORDS = new Set(('def class return if else elif for while in import from as with try except finally raise not and or is None True False ' +
  'func let var struct enum case switch guard throw throws async await fn pub impl match const function new this null undefined package extension protocol').split(' '));

function diffView(text) {
  const pre = h('pre', { class: 'code diff', id: 'attempt-diff' });
  for (const line of text.split('\n')) {
    const cls = line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ') ? 'file'
      : line.startsWith('@@') ? 'hunk' : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : null;
    const span = h('span', { class: cls });
    if (cls === 'file' || cls === 'hunk') span.textContent = line;
    else colour(line, span);
    pre.append(span, cls ? '' : '\n');
  }
  return pre;
}

// A light syntax colouring: keywords, strings and comments of the usual languages, as text nodes.
function colour(line, into) {
  const pattern = /(#.*$|\/\/.*$)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([A-Za-z_][A-Za-z0-9_]*)/g;
  let last = 0;
  for (const match of line.matchAll(pattern)) {
    const [word, comment, string, name] = match;
    const cls = comment ? 'com' : string ? 'str' : name && KEYWORDS.has(name) ? 'kw' : null;
    if (!cls) continue;
    into.append(line.slice(last, match.index), h('span', { class: cls, text: word }));
    last = match.index + word.length;
  }
  into.append(line.slice(last));
}

// ---- Live events: Server-Sent Events read with fetch, so that a token can be sent; resumes after Last-Event-ID ----

async function follow(view) {
  if (view.following) return;
  view.following = true;
  let delay = 500;
  while (!view.closed) {
    try {
      const headers = { Accept: 'text/event-stream' };
      if (state.token) headers.Authorization = 'Bearer ' + state.token;
      if (view.lastEventID) headers['Last-Event-ID'] = String(view.lastEventID);
      const response = await fetch('/missions/' + view.id + '/stream', { headers, signal: view.controller.signal });
      if (response.status === 401) { askForToken(); break; }
      if (!response.ok || !response.body) throw new Error('stream answered ' + response.status);
      setConnection('live');
      view.connected = true;
      view.refresh();
      delay = 500;
      if (await readStream(view, response.body)) { setConnection('mission ended'); break; }
      view.connected = false;
      setConnection('reconnecting…');
    } catch (error) {
      if (view.closed) break;
      view.connected = false;
      setConnection('reconnecting…');
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(5000, delay * 2);
  }
  view.following = false;
}

// Reads one connection's events; true once the mission has ended.
async function readStream(view, body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const fields = { data: [] };
      for (const line of block.split('\n')) {
        if (!line || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'data') fields.data.push(value); else fields[name] = value;
      }
      if (fields.event === 'end') { view.refresh(); return true; }
      if (!fields.id || !fields.data.length) continue;
      try { receive(view, JSON.parse(fields.data.join('\n'))); } catch (error) { /* a malformed event is skipped */ }
    }
  }
}

function receive(view, event) {
  if (view.events.has(event.id)) return;
  view.events.set(event.id, event);
  view.lastEventID = Math.max(view.lastEventID, event.id);
  view.root.events.append(h('li', { 'data-event': event.id }, h('span', { class: 'muted', text: new Date(event.at).toLocaleTimeString() + ' ' }),
    h('b', { text: event.kind }), ' ', event.message));
  view.root.eventCount.textContent = '(' + view.events.size + ')';
  const box = view.root.events.parentElement;
  if (box.scrollHeight - box.scrollTop - box.clientHeight < 40) box.scrollTop = box.scrollHeight;
  view.refresh();
  if (view.selected && event.attempt != null) {
    const selected = view.attempts.find((a) => String(a.sequence) === String(view.selected));
    if (selected && selected.group === event.group && selected.number === event.attempt) showAttempt(view, view.selected);
  }
}

// ---- Routing ----------------------------------------------------------------------------------------------------

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'missions' && parts[1]) {
    if (state.view && state.view.id === parts[1]) {
      if (parts[2] === 'attempts' && parts[3]) showAttempt(state.view, parts[3]);
      else { state.view.selected = null; state.view.root.detail.hidden = true; drawAttempts(state.view); }
      return;
    }
    if (state.view) state.view.close();
    state.view = missionView(parts[1], parts[2] === 'attempts' ? parts[3] : null);
  } else {
    if (state.view) state.view.close();
    state.view = missionsView();
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = document.getElementById('token').value.trim();
    sessionStorage.setItem('flotilla.token', state.token);
    document.getElementById('token-form').hidden = true;
    if (state.view) state.view.close();
    state.view = null;
    route();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.view && state.view.id && !document.getElementById('confirm').open) location.hash = '#/missions/' + state.view.id;
    if (e.key === '/' && document.getElementById('state-filter') && document.activeElement.tagName !== 'INPUT') { e.preventDefault(); document.getElementById('state-filter').focus(); }
  });
  window.addEventListener('hashchange', route);
  route();
});
