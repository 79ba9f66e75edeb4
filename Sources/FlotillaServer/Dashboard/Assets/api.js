// @ts-check
// The daemon's JSON API and event stream, with the token the user gave (kept for this tab only).

export const session = { token: sessionStorage.getItem('flotilla.token') || '' };

export class APIError extends Error {}

/** Shows the token form: the daemon asked for a token. */
export function askForToken() {
  const form = /** @type {HTMLFormElement} */ (document.getElementById('token-form'));
  form.hidden = false;
  /** @type {HTMLElement} */ (document.getElementById('token')).focus();
}

/** @param {Record<string, string>} headers */
function withToken(headers) {
  if (session.token) headers.Authorization = 'Bearer ' + session.token;
  return headers;
}

/**
 * A JSON answer of the API; its error message (or the status) as an APIError.
 * @param {string} path
 * @param {RequestInit & { headers?: Record<string, string> }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const headers = withToken(Object.assign({ Accept: 'application/json' }, options.headers || {}));
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    askForToken();
    throw new APIError('this daemon needs an API token: enter it at the top right');
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new APIError((body.error && body.error.message) || response.status + ' ' + response.statusText);
  }
  return body;
}

/**
 * POSTs `body` as JSON.
 * @param {string} path
 * @param {unknown} [body]
 */
export const post = (path, body) =>
  api(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body || {}) });

/**
 * Opens a mission's event stream after `lastEventID` (read with fetch, so that a token can be sent).
 * @param {string} mission
 * @param {number} lastEventID
 * @param {AbortSignal} signal
 */
export function openStream(mission, lastEventID, signal) {
  const headers = withToken({ Accept: 'text/event-stream' });
  if (lastEventID) headers['Last-Event-ID'] = String(lastEventID);
  return fetch('/missions/' + mission + '/stream', { headers, signal });
}
