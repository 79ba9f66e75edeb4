// @ts-check
// The list of missions, refreshed every two seconds, filtered by state.
import { api } from './api.js';
import { activatable, barFill, h, setConnection } from './dom.js';
import { age, money } from './format.js';

const STATES = ['all', 'running', 'created', 'completed', 'blocked', 'failed', 'stopped', 'crashed'];
const COLUMNS = ['Mission', 'Goal', 'State', 'Progress', 'Cost', 'Attempts', 'Created'];

/** Draws the list in the page; returns how to close it. */
export function missionsView() {
  const filter = h('select', { id: 'state-filter', 'aria-label': 'Filter by state' },
    STATES.map((s) => h('option', { value: s, text: s })));
  filter.value = sessionStorage.getItem('flotilla.filter') || 'all';
  const body = h('tbody');
  const message = h('p', { class: 'muted', id: 'missions-message' });
  /** @type {HTMLElement} */ (document.getElementById('main')).replaceChildren(
    h('div', { class: 'toolbar' }, h('h1', { text: 'Missions' }), h('label', {}, 'State ', filter)),
    h('table', { id: 'missions' }, h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', { text: t })))), body),
    message);
  /** @type {any[]} */
  let missions = [];
  const draw = () => {
    const shown = missions.filter((m) => filter.value === 'all' || m.state === filter.value);
    body.replaceChildren(...shown.map(row));
    message.textContent = shown.length ? ''
      : missions.length ? 'No mission is ' + filter.value + '.'
        : 'No missions yet: start one with `flotilla run` or POST /missions.';
  };
  filter.addEventListener('change', () => {
    sessionStorage.setItem('flotilla.filter', filter.value);
    draw();
  });
  const refresh = async () => {
    try {
      missions = (await api('/missions')).missions;
      draw();
      setConnection('updated ' + new Date().toLocaleTimeString());
    } catch (error) {
      message.textContent = /** @type {Error} */ (error).message;
      message.className = 'error';
    }
  };
  refresh();
  const timer = setInterval(refresh, 2000);
  return { id: null, close: () => clearInterval(timer) };
}

/** @param {any} m a mission */
function row(m) {
  const open = () => { location.hash = '#/missions/' + m.id; };
  return h('tr', { 'data-mission': m.id, ...activatable(open) },
    h('td', {}, h('a', { href: '#/missions/' + m.id, text: m.id })),
    h('td', { text: m.goal }),
    h('td', {}, h('span', { class: 'badge ' + m.state, text: m.state })),
    h('td', { class: 'num' },
      h('span', { class: 'bar' }, barFill(m.groups_done, m.groups_total)), ' ', m.groups_done + '/' + m.groups_total),
    h('td', { class: 'num', text: money(m.cost_usd) }),
    h('td', { class: 'num', text: m.attempts }),
    h('td', { class: 'num', text: age(m.created_at) }));
}
