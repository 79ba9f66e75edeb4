// @ts-check
// Server-Sent Events, parsed from the text of a stream as it arrives. Pure: the connection is api.js's.

/**
 * @typedef {{ event?: string, id?: string, retry?: string, data: string[] }} StreamEvent
 */

/**
 * The complete events in `buffer` (each ends with a blank line) and the text after the last of them.
 * @param {string} buffer
 * @returns {{ events: StreamEvent[], rest: string }}
 */
export function parseEvents(buffer) {
  const events = [];
  let rest = buffer;
  let cut;
  while ((cut = rest.indexOf('\n\n')) >= 0) {
    events.push(parseBlock(rest.slice(0, cut)));
    rest = rest.slice(cut + 2);
  }
  return { events, rest };
}

/**
 * One event's lines: `field: value`, comments (`:`) skipped, `data` lines kept in order.
 * @param {string} block
 * @returns {StreamEvent}
 */
export function parseBlock(block) {
  /** @type {StreamEvent} */
  const fields = { data: [] };
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'data') fields.data.push(value);
    else if (name === 'event' || name === 'id' || name === 'retry') fields[name] = value;
  }
  return fields;
}
