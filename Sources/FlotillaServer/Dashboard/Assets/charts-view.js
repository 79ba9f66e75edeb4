// @ts-check
// The agent lanes (each attempt a bar in its slot, its pipeline steps, gate and landing marked) and the cost over
// time.
import { h, svgRoot } from './dom.js';
import { money, outcomeClass, seconds } from './format.js';
import { costCurve, landingSpans, scale, stepSegments } from './layout.js';

/** @param {string | null | undefined} date */
const time = (date) => new Date(date || 0).getTime();

/** @param {any} view the mission view */
export function drawLanes(view) {
  const m = view.mission;
  const start = time(m.started_at || m.created_at);
  const now = m.finished_at ? time(m.finished_at) : Date.now();
  const slots = Math.max(m.agents, ...view.attempts.map((/** @type {any} */ a) => a.slot), 1); // slots count from 1
  const W = 600, LANE = 22, LEFT = 48;
  const x = scale([start, start + Math.max(1, now - start)], [LEFT, W]);
  const landings = landingSpans([...view.events.values()]);
  const height = slots * LANE + 18;
  const svg = svgRoot(W, height, 'Agent lanes');
  for (let s = 0; s < slots; s++) {
    svg.append(h('svg:text', { x: 0, y: s * LANE + 15, text: 'slot ' + (s + 1) }),
      h('svg:line', { class: 'axis', x1: LEFT, x2: W, y1: s * LANE + LANE, y2: s * LANE + LANE }));
  }
  for (const a of view.attempts) {
    const t0 = time(a.started_at);
    const t1 = a.finished_at ? time(a.finished_at) : now;
    const y = (a.slot - 1) * LANE + 3;
    const open = () => { location.hash = '#/missions/' + view.id + '/attempts/' + a.sequence; };
    const title = a.group + ' #' + a.number + ': ' + (a.outcome || a.phase) + (a.reason ? ' — ' + a.reason : '');
    const bar = h('svg:g', { class: 'attempt', 'data-sequence': a.sequence, tabindex: 0, role: 'button', onclick: open,
      onkeydown: (/** @type {KeyboardEvent} */ e) => { if (e.key === 'Enter') open(); } },
    h('svg:rect', { class: 'span ' + outcomeClass(a), x: x(t0), y, width: Math.max(2, x(t1) - x(t0)), height: LANE - 6,
      rx: 3 }),
    h('svg:title', { text: title }));
    if (a.gate_seconds) {
      const g0 = x(t0 + (a.agent_seconds || 0) * 1000);
      const g1 = Math.min(x(t1), x(t0 + (a.agent_seconds || 0) * 1000 + a.gate_seconds * 1000));
      bar.append(h('svg:rect', { class: 'gate', x: g0, y, width: Math.max(1, g1 - g0), height: LANE - 6 }));
    }
    // A pipeline's steps, each try a segment along the bar's top, coloured by how it ended.
    for (const s of stepSegments(a.steps)) {
      const width = Math.max(1, x(s.span[1]) - x(s.span[0]));
      bar.append(h('svg:rect', { class: 'step ' + s.status, x: x(s.span[0]), y, width, height: 5 },
        h('svg:title', { text: s.label })));
    }
    const landing = landings.get(a.group + '#' + a.number);
    if (landing) {
      const [l0, l1] = landing;
      const width = Math.max(2, x(l1) - x(l0));
      bar.append(h('svg:rect', { class: 'landing', x: x(l0), y: y + LANE - 9, width, height: 3 }));
    }
    svg.append(bar);
  }
  view.root.lanes.replaceChildren(svg);
}

/** @param {any} view the mission view */
export function drawBurn(view) {
  const m = view.mission;
  const limits = m.limits || {};
  const start = time(m.started_at || m.created_at);
  const curve = costCurve(view.attempts, start);
  const total = curve[curve.length - 1][1];
  const now = m.finished_at ? time(m.finished_at) : Date.now();
  // The time limit is drawn once the mission has used a third of it; before, it would squash the curve.
  const timeLimit = limits.max_seconds && (now - start) / 1000 > limits.max_seconds / 3
    ? start + limits.max_seconds * 1000 : null;
  const end = Math.max(now, timeLimit || 0, start + 1000);
  const top = Math.max(limits.max_cost_usd || 0, m.cost_usd, total, 0.0001) * 1.1;
  const W = 600, H = 160, L = 56;
  const x = scale([start, end], [L, W]);
  const y = scale([0, top], [H - 16, 8]);
  const svg = svgRoot(W, H, 'Cost over time',
    h('svg:line', { class: 'axis', x1: L, x2: W, y1: y(0), y2: y(0) }),
    h('svg:line', { class: 'axis', x1: L, x2: L, y1: 4, y2: y(0) }),
    h('svg:text', { x: 0, y: y(top / 1.1) + 4, text: money(top / 1.1) }), h('svg:text', { x: 0, y: y(0), text: '$0' }),
    h('svg:text', { x: W - 60, y: H - 2, text: seconds((end - start) / 1000) }));
  if (limits.max_cost_usd) {
    const limit = y(limits.max_cost_usd);
    svg.append(h('svg:line', { class: 'limit', x1: L, x2: W, y1: limit, y2: limit }),
      h('svg:text', { x: L + 4, y: limit - 3, text: 'cost limit' }));
  }
  if (timeLimit) {
    svg.append(h('svg:line', { class: 'limit', x1: x(timeLimit), x2: x(timeLimit), y1: 4, y2: y(0) }),
      h('svg:text', { x: x(timeLimit) - 52, y: 14, text: 'time limit' }));
  }
  let d = '';
  curve.forEach(([t, c], i) => { d += (i ? ` H${x(t)} V${y(c)}` : `M${x(t)},${y(c)}`); });
  d += ` H${x(now)}`;
  svg.append(h('svg:path', { class: 'curve', d }));
  view.root.burn.replaceChildren(svg);
}
