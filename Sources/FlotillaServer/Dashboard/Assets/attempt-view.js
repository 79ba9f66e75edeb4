// @ts-check
// The attempts table, and one attempt in the detail panel: its diff, gate output, feedback, transcript and prompt.
import { api } from './api.js';
import { activatable, h } from './dom.js';
import { clip, money, seconds, tokens } from './format.js';

const TABS = [['diff', 'Diff'], ['gate', 'Gate output'], ['feedback', 'Why it failed / critic'],
  ['transcript', 'Transcript'], ['prompt', 'Prompt']];
/** The attempts table's headings. */
export const ATTEMPT_COLUMNS = ['#', 'Group', 'Try', 'Slot', 'Outcome', 'Reason', 'Cost', 'Tokens', 'Agent', 'Gate'];

/** @param {any} view the mission view */
export function drawAttempts(view) {
  view.root.attempts.replaceChildren(...view.attempts.map((/** @type {any} */ a) => {
    const open = () => { location.hash = '#/missions/' + view.id + '/attempts/' + a.sequence; };
    const selected = String(view.selected) === String(a.sequence) ? 'selected' : null;
    return h('tr', { 'data-sequence': a.sequence, class: selected, ...activatable(open) },
      h('td', { class: 'num', text: a.sequence }), h('td', { text: a.group }),
      h('td', { class: 'num', text: a.number }), h('td', { class: 'num', text: a.slot }),
      h('td', {}, badge(a)),
      h('td', { text: clip(a.reason || '', 90) }), h('td', { class: 'num', text: money(a.cost_usd) }),
      h('td', { class: 'num', text: tokens(a.input_tokens + a.output_tokens) }),
      h('td', { class: 'num', text: seconds(a.agent_seconds) }),
      h('td', { class: 'num', text: seconds(a.gate_seconds) }));
  }));
}


/**
 * Opens attempt `sequence` in the detail panel; reloads it while it runs (its transcript grows).
 * @param {any} view
 * @param {string | number} sequence
 */
export async function showAttempt(view, sequence) {
  view.selected = sequence;
  view.openGroup = null;
  drawAttempts(view);
  const r = view.root;
  r.detail.hidden = false;
  r.detail.dataset.key = '';
  const load = async () => {
    try {
      const detail = await api('/missions/' + view.id + '/attempts/' + sequence);
      if (view.closed || String(view.selected) !== String(sequence)) return;
      draw(view, detail);
      clearTimeout(view.detailTimer);
      if (!detail.attempt.finished_at) view.detailTimer = setTimeout(load, 1500);
    } catch (error) {
      r.detail.replaceChildren(h('p', { class: 'error', text: /** @type {Error} */ (error).message }));
    }
  };
  await load();
  r.detail.scrollIntoView({ block: 'nearest' });
}

/**
 * @param {any} view
 * @param {any} detail the API's attempt detail
 */
function draw(view, detail) {
  const a = detail.attempt;
  const body = h('div', { id: 'attempt-body' });
  /** @param {string} name */
  const pick = (name) => {
    view.tab = name;
    for (const b of bar.children) b.setAttribute('aria-selected', String(b.dataset.tab === name));
    body.replaceChildren(content(detail, name));
  };
  const bar = h('div', { class: 'tabs', role: 'tablist' },
    TABS.map(([name, label]) => h('button', { role: 'tab', 'data-tab': name, onclick: () => pick(name) }, label)));
  const where = a.outcome === 'landed' ? 'landed as ' + (a.landed_commit || '').slice(0, 12)
    : a.outcome ? a.outcome + (a.reason ? ': ' + a.reason : '') : 'running (' + a.phase + ')';
  const changed = a.files_changed !== undefined && a.files_changed !== null
    ? ' · ' + a.files_changed + ' files +' + a.insertions + ' −' + a.deletions : '';
  const title = 'Attempt ' + a.group + ' #' + a.number + ' (' + a.backend + ', slot ' + a.slot + ')';
  const close = () => { location.hash = '#/missions/' + view.id; };
  const spent = money(a.cost_usd) + ' · ' + tokens(a.input_tokens) + ' in / ' + tokens(a.output_tokens) + ' out';
  view.root.detail.replaceChildren(
    h('div', { class: 'head' }, h('h2', { text: title }),
      h('div', { class: 'actions' }, h('button', { onclick: close }, 'Close'))),
    h('p', { id: 'attempt-outcome' }, badge(a), ' ', where, ' · ', spent, changed),
    bar, body);
  pick(view.tab || 'diff');
}

/**
 * An attempt's outcome (or phase, while it runs) as a coloured badge.
 * @param {any} a
 */
const badge = (a) => h('span', { class: 'badge ' + (a.outcome || 'running'), text: a.outcome || a.phase });

/**
 * @param {any} detail
 * @param {string} tab
 */
function content(detail, tab) {
  /** @type {Record<string, string | undefined>} */
  const texts = { diff: detail.diff, gate: detail.gate_output, feedback: detail.feedback, transcript: detail.transcript,
    prompt: detail.prompt };
  const text = texts[tab];
  if (!text) {
    const none = tab === 'feedback'
      ? 'No feedback: the attempt did not fail (or has not finished).' : 'Nothing recorded (yet).';
    return h('p', { class: 'muted', text: none });
  }
  return tab === 'diff' ? diffView(text) : h('pre', { class: 'code', id: 'attempt-' + tab, text });
}

const KEYWORDS = new Set(('def class return if else elif for while in import from as with try except finally raise not '
  + 'and or is None True False func let var struct enum case switch guard throw throws async await fn pub impl match '
  + 'const function new this null undefined package extension protocol').split(' '));

/** @param {string} text a unified diff */
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

/**
 * A light syntax colouring: keywords, strings and comments of the usual languages, as text nodes.
 * @param {string} line
 * @param {HTMLElement} into
 */
function colour(line, into) {
  const pattern = /(#.*$|\/\/.*$)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([A-Za-z_][A-Za-z0-9_]*)/g;
  let last = 0;
  for (const match of line.matchAll(pattern)) {
    const [word, comment, string, name] = match;
    const cls = comment ? 'com' : string ? 'str' : name && KEYWORDS.has(name) ? 'kw' : null;
    if (!cls) continue;
    into.append(line.slice(last, match.index), h('span', { class: cls, text: word }));
    last = (match.index || 0) + word.length;
  }
  into.append(line.slice(last));
}
