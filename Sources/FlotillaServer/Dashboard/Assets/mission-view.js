// @ts-check
// One mission: its header and actions, meters, checklist DAG, agent lanes, cost curve, attempts and live events.
import { api } from './api.js';
import { ATTEMPT_COLUMNS, drawAttempts, showAttempt } from './attempt-view.js';
import { drawBurn, drawLanes } from './charts-view.js';
import { drawDAG, showGroup } from './dag-view.js';
import { h, legend, throttle } from './dom.js';
import { drawHeader, drawMeters } from './header-view.js';
import { follow } from './live.js';

const DAG_KEY = [['pending', 'pending'], ['ready', 'ready (frontier)'], ['active', 'in progress'], ['done', 'done'],
  ['blocked', 'blocked']];
const LANE_KEY = [['landed', 'landed'], ['failed', 'failed'], ['running', 'running'], ['other', 'other']];

/**
 * Draws mission `id` in the page (with attempt `selectedAttempt` open, if given); returns the view.
 * @param {string} id
 * @param {string | null} selectedAttempt
 */
export function missionView(id, selectedAttempt) {
  /** @type {any} */
  const view = { id, mission: null, attempts: [], events: new Map(), lastEventID: 0, selected: selectedAttempt,
    closed: false, controller: new AbortController(), dag: null, timer: null, detailTimer: null };
  const r = view.root = {
    title: h('h1', { id: 'mission-goal' }), sub: h('p', { class: 'muted', id: 'mission-sub' }),
    actions: h('div', { class: 'actions' }), meters: h('div', { class: 'meters', id: 'meters' }),
    dag: h('div', { class: 'scroll', id: 'dag' }), lanes: h('div', { class: 'scroll', id: 'lanes' }),
    burn: h('div', { id: 'burn' }), attempts: h('tbody'),
    detail: h('section', { class: 'panel', id: 'attempt-detail', hidden: true }),
    events: h('ol', { id: 'events' }), eventCount: h('span', { class: 'muted', id: 'event-count' }),
    error: h('p', { class: 'error', role: 'alert' }),
  };
  /** @param {string} title @param {...any} children */
  const panel = (title, ...children) => h('section', { class: 'panel' }, h('h2', { text: title }), ...children);
  const attempts = h('table', { id: 'attempts' },
    h('thead', {}, h('tr', {}, ATTEMPT_COLUMNS.map((t) => h('th', { text: t })))), r.attempts);
  /** @type {HTMLElement} */ (document.getElementById('main')).replaceChildren(
    h('p', {}, h('a', { href: '#/', text: '← Missions' })),
    h('div', { class: 'head' }, h('div', {}, r.title, r.sub), r.actions), r.error, r.meters,
    panel('Checklist', r.dag, legend(/** @type {[string, string][]} */ (DAG_KEY))),
    h('div', { class: 'grid2' },
      panel('Agent lanes', r.lanes, legend(/** @type {[string, string][]} */ (LANE_KEY))),
      panel('Cost over time', r.burn)),
    r.detail,
    panel('Attempts', h('div', { class: 'scroll' }, attempts)),
    h('section', { class: 'panel' }, h('h2', {}, 'Events ', r.eventCount), h('div', { class: 'events' }, r.events)));

  view.refresh = throttle(() => refresh(view), 400);
  view.follow = () => follow(view);
  refresh(view).then(() => { if (view.selected) showAttempt(view, view.selected); });
  view.follow();
  view.timer = setInterval(() => drawMeters(view), 1000);
  view.close = () => {
    view.closed = true;
    view.controller.abort();
    clearInterval(view.timer);
    clearTimeout(view.detailTimer);
  };
  return view;
}

/**
 * Reads the mission and its attempts again, and redraws every part.
 * @param {any} view
 */
async function refresh(view) {
  // While the stream is down the daemon is likely gone: the stream's reconnection refreshes instead.
  if (view.mission && view.connected === false) return;
  try {
    const path = '/missions/' + view.id;
    const [mission, history] = await Promise.all([api(path), api(path + '/attempts')]);
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
    view.root.error.textContent = /** @type {Error} */ (error).message;
  }
}
