// @ts-check
// Figures as people read them: money, durations, ages, token counts. Pure functions of their arguments.

/** @param {number} usd */
export const money = (usd) => '$' + (usd || 0).toFixed(usd >= 100 ? 0 : usd >= 1 ? 2 : 4);

/** @param {number | null | undefined} s */
export function seconds(s) {
  if (s === null || s === undefined) return '—';
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
}

/**
 * How long ago `date` was, from `now` (milliseconds since 1970).
 * @param {string} date
 * @param {number} [now]
 */
export const age = (date, now = Date.now()) => seconds((now - new Date(date).getTime()) / 1000) + ' ago';

/** @param {number} n */
export const tokens = (n) => (n >= 1000 ? (n / 1000).toFixed(1) + 'k' : String(n || 0));

const FAILED = ['gate_failed', 'rejected', 'regression', 'timed_out', 'agent_failed'];

/**
 * The colour class of an attempt: running, landed, failed or other (interrupted, conflict).
 * @param {{ outcome?: string | null }} attempt
 */
export function outcomeClass(attempt) {
  if (!attempt.outcome) return 'running';
  if (attempt.outcome === 'landed') return 'landed';
  return FAILED.includes(attempt.outcome) ? 'failed' : 'other';
}

/**
 * `text` cut to `n` characters, an ellipsis last.
 * @param {string} text
 * @param {number} n
 */
export const clip = (text, n) => (text.length > n ? text.slice(0, n - 1) + '…' : text);

/**
 * The label of a DAG layer's folded groups: how many, and how many of them are done.
 * @param {{ id: string }[]} rest
 * @param {Map<string, string>} status
 */
export function moreLabel(rest, status) {
  const done = rest.filter((g) => status.get(g.id) === 'done').length;
  return '+' + rest.length + ' more (' + done + ' done)';
}

/** @param {number} n */
const figure = (n) => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4))));

/**
 * A typed criterion on one line, as `flotilla status` writes it: state, last figure, best and target, expression.
 * @param {{ id: string, kind: string, expression: string, required: boolean, status?: string | null,
 *   value?: number | null, best_value?: number | null, target?: number | null }} c
 */
export function criterionLine(c) {
  const notes = [];
  if (c.best_value != null && c.best_value !== c.value) notes.push('best ' + figure(c.best_value));
  if (c.kind === 'metric' && c.target != null) notes.push('target ' + figure(c.target));
  let line = c.id + (c.required ? '' : ' (optional)') + ': ' + (c.status || 'not judged yet');
  if (c.value != null) line += ', ' + figure(c.value);
  if (notes.length) line += ' (' + notes.join(', ') + ')';
  return line + ' — ' + c.expression;
}
