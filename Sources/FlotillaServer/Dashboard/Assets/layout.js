// @ts-check
// Geometry as numbers: where the DAG's nodes go, when landings ran, the cost curve. Pure; the views draw it.

/** Groups drawn per DAG layer before the rest fold into one "more" node. */
export const LAYER_CAP = 40;
/** A DAG node's size and the gaps between them. */
export const NODE = { width: 150, height: 26, gapX: 60, gapY: 8 };

/**
 * @typedef {{ id: string, title: string, status: string, depends_on: string[], layer?: number }} Group
 * @typedef {{ x: number, y: number }} Point
 */

/**
 * A group's class in the DAG: its status, or `ready` when pending with every dependency done (the frontier).
 * @param {Group} group
 * @param {Map<string, string>} status
 */
export function nodeClass(group, status) {
  return group.status === 'pending' && group.depends_on.every((d) => status.get(d) === 'done') ? 'ready' : group.status;
}

/**
 * What decides the DAG's drawing: its groups, their edges and the layers unfolded. Equal shapes draw the same.
 * @param {Group[]} groups
 * @param {Set<number>} expanded
 */
export function dagShape(groups, expanded) {
  return groups.map((g) => g.id + ':' + g.depends_on.join(',')).join(';') + '|' + [...expanded].join(',');
}

/**
 * Each shown group's position, layer by layer, and the groups folded away per layer (beyond `cap`, unless expanded).
 * @param {Group[]} groups
 * @param {Set<number>} expanded
 * @param {number} [cap]
 */
export function layoutDAG(groups, expanded, cap = LAYER_CAP) {
  /** @type {Group[][]} */
  const layers = [];
  for (const g of groups) (layers[g.layer || 0] = layers[g.layer || 0] || []).push(g);
  /** @type {Map<string, Point>} */
  const position = new Map();
  /** @type {Map<number, Group[]>} */
  const hidden = new Map();
  let rows = 0;
  layers.forEach((members, x) => {
    const shown = expanded.has(x) ? members : members.slice(0, cap);
    shown.forEach((g, y) => position.set(g.id, { x: x * (NODE.width + NODE.gapX), y: y * (NODE.height + NODE.gapY) }));
    if (shown.length < members.length) hidden.set(x, members.slice(cap));
    rows = Math.max(rows, shown.length + (shown.length < members.length ? 1 : 0));
  });
  return {
    position,
    hidden,
    width: Math.max(1, layers.length) * (NODE.width + NODE.gapX),
    height: Math.max(1, rows) * (NODE.height + NODE.gapY),
  };
}

/**
 * The curve of an edge from the right of one node to the left of another.
 * @param {Point} from
 * @param {Point} to
 */
export function edgePath(from, to) {
  const x1 = from.x + NODE.width, y1 = from.y + NODE.height / 2, x2 = to.x, y2 = to.y + NODE.height / 2;
  return `M${x1},${y1} C${x1 + NODE.gapX / 2},${y1} ${x2 - NODE.gapX / 2},${y2} ${x2},${y2}`;
}

/**
 * When each landed attempt's landing ran, as `group#number` → [start, end] in milliseconds, from the events.
 * @param {{ id: number, kind: string, group?: string, attempt?: number, at: string }[]} events
 */
export function landingSpans(events) {
  /** @type {Map<string, [number, number]>} */
  const spans = new Map();
  /** @type {Map<string, number>} */
  const started = new Map();
  for (const e of [...events].sort((a, b) => a.id - b.id)) {
    const key = e.group + '#' + e.attempt;
    const at = new Date(e.at).getTime();
    if (e.kind === 'merge.started') started.set(key, at);
    const start = started.get(key);
    if (e.kind === 'attempt.landed' && start !== undefined) spans.set(key, [start, at]);
  }
  return spans;
}

/**
 * The tries of an attempt's pipeline steps as segments of its bar, in time order: `[start, end]` in milliseconds,
 * the step's status, and a label (`implement, loop 1, try 2`) for its tooltip.
 * @param {{ step: string, loop: number, try: number, status: string, reason?: string | null,
 *   started_at: string, finished_at: string }[] | null | undefined} steps
 */
export function stepSegments(steps) {
  return (steps || [])
    .map((s) => ({
      span: /** @type {[number, number]} */ ([new Date(s.started_at).getTime(), new Date(s.finished_at).getTime()]),
      status: s.status,
      label: s.step + (s.loop > 0 ? ', loop ' + s.loop : '') + (s.try > 1 ? ', try ' + s.try : '') + ': ' + s.status
        + (s.reason ? ' — ' + s.reason : ''),
    }))
    .filter((s) => Number.isFinite(s.span[0]) && Number.isFinite(s.span[1]))
    .sort((a, b) => a.span[0] - b.span[0]);
}

/**
 * The cost spent over time: a step at each finished attempt, from 0 at `start`.
 * @param {{ finished_at?: string | null, cost_usd: number }[]} attempts
 * @param {number} start
 * @returns {[number, number][]}
 */
export function costCurve(attempts, start) {
  const points = attempts
    .filter((a) => a.finished_at)
    .map((a) => /** @type {[number, number]} */ ([new Date(a.finished_at || 0).getTime(), a.cost_usd]))
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  return [/** @type {[number, number]} */ ([start, 0])].concat(points.map(([t, c]) => [t, (total += c)]));
}

/**
 * A linear scale from `domain` onto `range`.
 * @param {[number, number]} domain
 * @param {[number, number]} range
 */
export function scale(domain, range) {
  const span = domain[1] - domain[0] || 1;
  return (/** @type {number} */ v) => range[0] + ((range[1] - range[0]) * (v - domain[0])) / span;
}
