// @ts-check
// A mission's live events: Server-Sent Events over fetch, resumed after the last event seen when the connection drops.
import { askForToken, openStream } from './api.js';
import { h, setConnection } from './dom.js';
import { parseEvents } from './sse.js';
import { showAttempt } from './attempt-view.js';

/**
 * Follows the mission's stream until it ends or the view closes; following twice is a no-op.
 * @param {any} view the mission view
 */
export async function follow(view) {
  if (view.following) return;
  view.following = true;
  let delay = 500;
  while (!view.closed) {
    try {
      const response = await openStream(view.id, view.lastEventID, view.controller.signal);
      if (response.status === 401) { askForToken(); break; }
      if (!response.ok || !response.body) throw new Error('stream answered ' + response.status);
      setConnection('live');
      view.connected = true;
      view.refresh();
      delay = 500;
      if (await read(view, response.body)) { setConnection('mission ended'); break; }
      view.connected = false;
      setConnection('reconnecting…');
    } catch (error) {
      if (view.closed) break;
      view.connected = false;
      setConnection('reconnecting…');
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(5000, delay * 2);
  }
  view.following = false;
}

/**
 * Reads one connection's events; true once the mission has ended.
 * @param {any} view
 * @param {ReadableStream<Uint8Array>} body
 */
async function read(view, body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    const { events, rest } = parseEvents(buffer + value);
    buffer = rest;
    for (const event of events) {
      if (event.event === 'end') { view.refresh(); return true; }
      if (!event.id || !event.data.length) continue;
      try { receive(view, JSON.parse(event.data.join('\n'))); } catch (error) { /* a malformed event is skipped */ }
    }
  }
}

/**
 * @param {any} view
 * @param {{ id: number, at: string, kind: string, message: string, group?: string, attempt?: number }} event
 */
function receive(view, event) {
  if (view.events.has(event.id)) return;
  view.events.set(event.id, event);
  view.lastEventID = Math.max(view.lastEventID, event.id);
  const time = new Date(event.at).toLocaleTimeString() + ' ';
  view.root.events.append(h('li', { 'data-event': event.id },
    h('span', { class: 'muted', text: time }), h('b', { text: event.kind }), ' ', event.message));
  view.root.eventCount.textContent = '(' + view.events.size + ')';
  const box = view.root.events.parentElement;
  if (box.scrollHeight - box.scrollTop - box.clientHeight < 40) box.scrollTop = box.scrollHeight;
  view.refresh();
  if (view.selected && event.attempt != null) {
    const selected = view.attempts.find((/** @type {any} */ a) => String(a.sequence) === String(view.selected));
    const about = selected && selected.group === event.group && selected.number === event.attempt;
    if (about) showAttempt(view, view.selected);
  }
}
