// The dashboard's formats: `node --test Tests/Dashboard` (DashboardScriptTests runs it within `swift test`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  age, clip, criterionLine, money, moreLabel, outcomeClass, seconds, tokens,
} from '../../Sources/FlotillaServer/Dashboard/Assets/format.js';

test('money shows cents, or fractions of a cent, or whole dollars past a hundred', () => {
  assert.equal(money(0), '$0.0000');
  assert.equal(money(0.0042), '$0.0042');
  assert.equal(money(1.255), '$1.25');
  assert.equal(money(250.4), '$250');
  assert.equal(money(undefined), '$0.0000');
});

test('durations read in seconds, minutes or hours, and a missing one as a dash', () => {
  assert.equal(seconds(null), '—');
  assert.equal(seconds(4.25), '4.3 s');
  assert.equal(seconds(42), '42 s');
  assert.equal(seconds(185), '3 min 5 s');
  assert.equal(seconds(7260), '2 h 1 min');
  assert.equal(age('2026-12-07T00:00:00Z', Date.parse('2026-12-07T00:01:30Z')), '1 min 30 s ago');
});

test('token counts fold into thousands', () => {
  assert.equal(tokens(0), '0');
  assert.equal(tokens(999), '999');
  assert.equal(tokens(12345), '12.3k');
});

test('an attempt is coloured by how it ended', () => {
  assert.equal(outcomeClass({ outcome: null }), 'running');
  assert.equal(outcomeClass({ outcome: 'landed' }), 'landed');
  assert.equal(outcomeClass({ outcome: 'gate_failed' }), 'failed');
  assert.equal(outcomeClass({ outcome: 'interrupted' }), 'other');
});

test('long text is clipped with an ellipsis, and folded groups say how many are done', () => {
  assert.equal(clip('abcdef', 4), 'abc…');
  assert.equal(clip('abc', 4), 'abc');
  const status = new Map([['a', 'done'], ['b', 'pending']]);
  assert.equal(moreLabel([{ id: 'a' }, { id: 'b' }], status), '+2 more (1 done)');
});

test('a typed criterion reads as status writes it: state, figure, best, target, expression', () => {
  const steps = { id: 'steps', kind: 'metric', expression: 'work.steps <= 100', required: true };
  assert.equal(criterionLine(steps), 'steps: not judged yet — work.steps <= 100');
  assert.equal(criterionLine({ ...steps, status: 'unmet', value: 150, best_value: 120, target: 100 }),
    'steps: unmet, 150 (best 120, target 100) — work.steps <= 100');
  assert.equal(criterionLine({ ...steps, status: 'met', value: 80.123456, best_value: 80.123456, target: 100 }),
    'steps: met, 80.12 (target 100) — work.steps <= 100');
  assert.equal(criterionLine({ id: 'up', kind: 'event', expression: 'log contains "up"', required: false,
    status: 'met', value: 2, target: 1 }), 'up (optional): met, 2 — log contains "up"');
});
