// The event stream's parsing: what arrives in pieces is split into whole events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBlock, parseEvents } from '../../Sources/FlotillaServer/Dashboard/Assets/sse.js';

test('complete events are taken, and the unfinished rest kept for the next chunk', () => {
  const first = parseEvents('retry: 1000\n\nid: 7\ndata: {"id":7}\n\nid: 8\nda');
  assert.deepEqual(first.events, [{ data: [], retry: '1000' }, { id: '7', data: ['{"id":7}'] }]);
  assert.equal(first.rest, 'id: 8\nda');
  const second = parseEvents(first.rest + 'ta: {"id":8}\n\n');
  assert.deepEqual(second.events, [{ id: '8', data: ['{"id":8}'] }]);
  assert.equal(second.rest, '');
});

test('comments are skipped, data lines kept in order, one leading space dropped', () => {
  assert.deepEqual(parseBlock(': keep-alive\nevent: end\ndata:  two spaces\ndata:x'), {
    event: 'end',
    data: [' two spaces', 'x'],
  });
});

test('unknown fields are ignored rather than trusted', () => {
  assert.deepEqual(parseBlock('__proto__: x\nconstructor: y\nid: 1'), { id: '1', data: [] });
});
