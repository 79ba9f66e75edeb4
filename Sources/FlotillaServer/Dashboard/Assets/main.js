// @ts-check
// Flotilla's dashboard: the daemon's JSON API and event stream, drawn. Native modules, no dependencies.
// Everything agents or repositories wrote is shown as text (textContent), never as HTML.
import { session } from './api.js';
import { drawAttempts, showAttempt } from './attempt-view.js';
import { missionView } from './mission-view.js';
import { missionsView } from './missions-view.js';

/** @type {any} the view on the page */
let current = null;

/** Shows what the address says: the missions, a mission, or one of its attempts. */
function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'missions' && parts[1]) {
    if (current && current.id === parts[1]) {
      if (parts[2] === 'attempts' && parts[3]) showAttempt(current, parts[3]);
      else {
        current.selected = null;
        current.root.detail.hidden = true;
        drawAttempts(current);
      }
      return;
    }
    if (current) current.close();
    current = missionView(parts[1], parts[2] === 'attempts' ? parts[3] : null);
  } else {
    if (current) current.close();
    current = missionsView();
  }
}

/** @param {string} id */
const byID = (id) => /** @type {any} */ (document.getElementById(id));

byID('token-form').addEventListener('submit', (/** @type {Event} */ e) => {
  e.preventDefault();
  session.token = byID('token').value.trim();
  sessionStorage.setItem('flotilla.token', session.token);
  byID('token-form').hidden = true;
  if (current) current.close();
  current = null;
  route();
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && current && current.id && !byID('confirm').open) location.hash = '#/missions/' + current.id;
  if (e.key === '/' && byID('state-filter') && document.activeElement?.tagName !== 'INPUT') {
    e.preventDefault();
    byID('state-filter').focus();
  }
});
window.addEventListener('hashchange', route);
route();
