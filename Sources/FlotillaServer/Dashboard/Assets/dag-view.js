// @ts-check
// The checklist as a layered DAG. Drawn once per shape; later updates only change each node's class, so nothing moves
// while events stream in. A group opens in the detail panel.
import { post } from './api.js';
import { activatable, confirmAction, h, keyed, svgRoot } from './dom.js';
import { clip, criterionLine, moreLabel } from './format.js';
import { NODE, LAYER_CAP, dagShape, edgePath, layoutDAG, nodeClass } from './layout.js';

/** @param {any} view the mission view */
export function drawDAG(view) {
  /** @type {import('./layout.js').Group[]} */
  const groups = view.mission.groups || [];
  const status = new Map(groups.map((g) => [g.id, g.status]));
  view.expanded = view.expanded || new Set();
  const shape = dagShape(groups, view.expanded);
  if (view.dag && view.dag.shape === shape) {
    for (const g of groups) {
      const node = view.dag.nodes.get(g.id);
      if (node) node.setAttribute('class', 'node ' + nodeClass(g, status));
    }
    for (const [layer, more] of view.dag.more) {
      more.querySelector('text').textContent = moreLabel(view.dag.hidden.get(layer), status);
    }
    return;
  }
  const { position, hidden, width, height } = layoutDAG(groups, view.expanded);
  const svg = svgRoot(width, height, 'Checklist DAG');
  const edges = h('svg:g');
  svg.append(edges);
  const nodes = new Map();
  const more = new Map();
  for (const g of groups) {
    const to = position.get(g.id);
    if (!to) continue;
    for (const dep of g.depends_on) {
      const from = position.get(dep);
      if (from) edges.append(h('svg:path', { class: 'edge', d: edgePath(from, to) }));
    }
    const node = h('svg:g', { class: 'node ' + nodeClass(g, status), 'data-group': g.id, role: 'button',
      'aria-label': g.id + ' ' + g.status, transform: `translate(${to.x},${to.y})`,
      ...activatable(() => showGroup(view, g.id)) },
    h('svg:rect', { width: NODE.width, height: NODE.height, rx: 5 }),
    h('svg:text', { x: 8, y: 17, text: clip(g.id + ' · ' + g.title, 22) }),
    h('svg:title', { text: g.id + ' — ' + g.title + ' (' + g.status + ')' }));
    nodes.set(g.id, node);
    svg.append(node);
  }
  for (const [x, rest] of hidden) {
    const y = LAYER_CAP * (NODE.height + NODE.gapY);
    const node = h('svg:g', { class: 'more', tabindex: 0, role: 'button',
      transform: `translate(${x * (NODE.width + NODE.gapX)},${y})`,
      onclick: () => { view.expanded.add(x); drawDAG(view); } },
    h('svg:rect', { width: NODE.width, height: NODE.height, rx: 5 }),
    h('svg:text', { x: 8, y: 17, text: moreLabel(rest, status) }));
    more.set(x, node);
    svg.append(node);
  }
  view.dag = { shape, nodes, more, hidden };
  view.root.dag.replaceChildren(svg);
}

/**
 * A group in the detail panel: its status, criteria, check and attempts; approval when it is blocked.
 * @param {any} view
 * @param {string} groupID
 */
export function showGroup(view, groupID) {
  const g = (view.mission.groups || []).find((/** @type {any} */ x) => x.id === groupID);
  if (!g) return;
  view.openGroup = groupID;
  const r = view.root;
  const tries = view.attempts.filter((/** @type {any} */ a) => a.group === g.id);
  const key = g.id + ':' + g.status + ':' + tries.map((/** @type {any} */ a) => a.outcome || a.phase).join(',')
    + ':' + (g.typed_criteria || []).map((/** @type {any} */ c) => c.status + '=' + c.value).join(',');
  if (!keyed(r.detail, key) && !r.detail.hidden) return;
  r.detail.hidden = false;
  const approve = async () => {
    if (!(await confirmAction('Approve group ' + g.id + ' and resume the mission?'))) return;
    try {
      await post('/missions/' + view.id + '/approve', { groups: [g.id] });
      view.refresh();
      view.follow();
    } catch (error) { r.error.textContent = /** @type {Error} */ (error).message; }
  };
  const approval = g.status === 'blocked'
    ? h('button', { 'data-action': 'approve-group', onclick: approve }, 'Approve group') : null;
  /** @param {any} a */
  const link = (a) => h('a', { href: '#/missions/' + view.id + '/attempts/' + a.sequence,
    text: '#' + a.number + ' ' + (a.outcome || a.phase) + ' ' });
  r.detail.replaceChildren(
    h('div', { class: 'head' }, h('h2', { text: 'Group ' + g.id + ' — ' + g.title }),
      h('div', { class: 'actions' }, approval,
        h('button', { onclick: () => { r.detail.hidden = true; view.openGroup = null; } }, 'Close'))),
    h('p', {}, h('span', { class: 'badge ' + g.status, text: g.status }), ' ', g.blocked_reason || '',
      g.added_by ? ' (added by the ' + g.added_by + ')' : ''),
    h('ul', {}, g.criteria.map((/** @type {string} */ c) => h('li', { text: c }))),
    (g.typed_criteria || []).length ? h('ul', { class: 'criteria' }, g.typed_criteria.map((/** @type {any} */ c) =>
      h('li', { 'data-criterion': c.id, class: c.status || 'pending', text: criterionLine(c) }))) : null,
    h('p', { class: 'muted' }, 'Depends on: ' + (g.depends_on.join(', ') || 'nothing') + ' · check: '
      + (g.check || 'the mission verify command')),
    h('p', {}, tries.length ? 'Attempts: ' : 'No attempts yet.', tries.map(link)));
}
