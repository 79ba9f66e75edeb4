// @ts-check
// A mission's header — its state, and the actions a person can take (stop, resume, approve, reject) — and its meters.
import { post } from './api.js';
import { askReason, confirmAction, h, keyed } from './dom.js';
import { money, seconds } from './format.js';

/** @param {any} view the mission view */
export function drawHeader(view) {
  const m = view.mission;
  const r = view.root;
  r.title.textContent = m.goal;
  r.sub.replaceChildren(h('span', { class: 'badge ' + m.state, id: 'mission-state', text: m.state }), ' ', m.id,
    ' · ', m.backend, ' · target ', m.target_branch, m.stop_reason ? ' · ' + m.stop_reason : '',
    m.breaker ? ' · ' + m.breaker : '');
  // Redrawn only when the state (or what waits for a human) changes: a button must not be replaced under the pointer.
  const waiting = m.awaiting_approval || [];
  if (!keyed(r.actions, m.state + ' ' + waiting.join(','))) return;
  /** @param {() => Promise<unknown>} action */
  const then = async (action) => {
    try {
      await action();
      view.refresh();
      view.follow(); // a resumed or approved mission has more events; following twice is a no-op
    } catch (error) { r.error.textContent = /** @type {Error} */ (error).message; }
  };
  /** @type {(label: string, question: string, path: string, body?: unknown, danger?: boolean) => any} */
  const act = (label, question, path, body, danger) => h('button', { class: danger ? 'danger' : null,
    'data-action': label.toLowerCase().split(' ')[0],
    onclick: async () => { if (await confirmAction(question)) await then(() => post(path, body)); } }, label);
  const running = m.state === 'running' || m.state === 'created';
  /** @param {string} w */
  const subject = (w) => (w === 'mission' ? 'the finished mission' : 'the landing of ' + w);
  const what = waiting.map(subject).join(', ');
  const path = '/missions/' + m.id;
  const reject = async () => {
    const reason = await askReason('Reject ' + what + '? The reason goes to the next attempt.');
    if (reason !== null) await then(() => post(path + '/reject', { reason }));
  };
  const approve = 'Approve ' + what + '? Open its attempt first to see the diff and gate output.';
  const awaiting = h('span', { class: 'badge blocked', id: 'awaiting' }, 'waiting for you: ' + waiting.join(', '));
  r.actions.replaceChildren(...[
    waiting.length ? awaiting : null,
    waiting.length ? act('Approve', approve, path + '/approve', { groups: [] }) : null,
    waiting.length ? h('button', { class: 'danger', 'data-action': 'reject', onclick: reject }, 'Reject') : null,
    running ? act('Stop', 'Stop mission ' + m.id + '? Running attempts are ended and recorded.', path + '/stop?wait=30',
      null, true) : null,
    !running && m.state !== 'completed' ? act('Resume', 'Resume mission ' + m.id + '?', path + '/resume') : null,
    m.state === 'blocked'
      ? act('Approve', 'Approve every blocked group of ' + m.id + ' and resume it?', path + '/approve', { groups: [] })
      : null,
  ].filter(Boolean));
}

/** @param {any} view the mission view */
export function drawMeters(view) {
  const m = view.mission;
  if (!m) return;
  const limits = m.limits || {};
  const start = new Date(m.started_at || m.created_at).getTime();
  const end = m.finished_at ? new Date(m.finished_at).getTime() : Date.now();
  const elapsed = Math.max(0, (end - start) / 1000);
  const costs = view.attempts.filter((/** @type {any} */ a) => a.finished_at).map((/** @type {any} */ a) => a.cost_usd);
  const sum = costs.reduce((/** @type {number} */ s, /** @type {number} */ c) => s + c, 0);
  const estimate = costs.length ? sum / costs.length : null;
  /** @type {(limit: number | undefined, of: (limit: number) => string, none: string) => string} */
  const detail = (limit, of, none) => (limit ? 'of ' + of(limit) : none);
  view.root.meters.replaceChildren(
    meter('meter-groups', 'Groups done', m.groups_done + ' / ' + m.groups_total, '',
      m.groups_total ? m.groups_done / m.groups_total : 0),
    meter('meter-cost', 'Cost', money(m.cost_usd), detail(limits.max_cost_usd, money, 'no cost limit'),
      limits.max_cost_usd ? m.cost_usd / limits.max_cost_usd : null),
    meter('meter-time', 'Time', seconds(elapsed), detail(limits.max_seconds, seconds, 'no time limit'),
      limits.max_seconds ? elapsed / limits.max_seconds : null),
    meter('meter-attempts', 'Attempts', String(m.attempts), detail(limits.max_attempts, String, 'no attempt limit'),
      limits.max_attempts ? m.attempts / limits.max_attempts : null),
    meter('meter-next', 'Next dispatch', estimate === null ? '—' : '≈ ' + money(estimate), 'mean of finished attempts',
      null));
}

/**
 * One meter: a label, a figure, and a bar of `fraction` of its limit (none without a limit).
 * @param {string} id
 * @param {string} label
 * @param {string} value
 * @param {string} detail
 * @param {number | null} fraction
 */
function meter(id, label, value, detail, fraction) {
  const fill = h('i', { class: (fraction || 0) > 1 ? 'over' : null });
  fill.style.width = Math.min(100, 100 * (fraction || 0)) + '%';
  return h('div', { class: 'meter', id }, h('span', { class: 'muted', text: label }), h('b', { text: value }),
    fraction === null ? h('span', { class: 'muted', text: detail })
      : h('span', {}, h('span', { class: 'bar' }, fill), ' ', h('span', { class: 'muted', text: detail })));
}
