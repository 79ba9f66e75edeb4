// The dashboard's geometry: DAG layers, folding, edges, landing spans, the cost curve and scales.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NODE, costCurve, dagShape, edgePath, landingSpans, layoutDAG, nodeClass, scale, stepSegments,
} from '../../Sources/FlotillaServer/Dashboard/Assets/layout.js';

const group = (id, layer, dependsOn = [], status = 'pending') => ({ id, title: id, status, depends_on: dependsOn, layer });

test('groups are placed by layer, and a layer beyond the cap folds until it is expanded', () => {
  const groups = [group('a', 0), group('b', 0), group('c', 1, ['a']), group('d', 1, ['a']), group('e', 1, ['b'])];
  const folded = layoutDAG(groups, new Set(), 2);
  assert.deepEqual(folded.position.get('d'), { x: NODE.width + NODE.gapX, y: NODE.height + NODE.gapY });
  assert.equal(folded.position.get('e'), undefined);
  assert.deepEqual(folded.hidden.get(1).map((g) => g.id), ['e']);
  assert.equal(folded.height, 3 * (NODE.height + NODE.gapY));
  const open = layoutDAG(groups, new Set([1]), 2);
  assert.ok(open.position.has('e'));
  assert.equal(open.hidden.size, 0);
  assert.notEqual(dagShape(groups, new Set()), dagShape(groups, new Set([1])));
});

test('a pending group whose dependencies are all done is ready: the frontier', () => {
  const status = new Map([['a', 'done'], ['b', 'active']]);
  assert.equal(nodeClass(group('c', 1, ['a']), status), 'ready');
  assert.equal(nodeClass(group('d', 1, ['a', 'b']), status), 'pending');
  assert.equal(nodeClass(group('b', 0, [], 'active'), status), 'active');
});

test('an edge runs from the right of one node to the left of the next', () => {
  const path = edgePath({ x: 0, y: 0 }, { x: 210, y: 34 });
  assert.ok(path.startsWith(`M${NODE.width},${NODE.height / 2} `));
  assert.ok(path.endsWith(` 210,${34 + NODE.height / 2}`));
});

test('a landing spans from its merge starting to the attempt landing, in event order', () => {
  const at = (s) => new Date(Date.UTC(2026, 11, 7, 0, 0, s)).toISOString();
  const spans = landingSpans([
    { id: 3, kind: 'attempt.landed', group: 'a', attempt: 1, at: at(5) },
    { id: 2, kind: 'merge.started', group: 'a', attempt: 1, at: at(2) },
    { id: 4, kind: 'attempt.landed', group: 'b', attempt: 1, at: at(6) },
  ]);
  assert.deepEqual(spans.get('a#1'), [Date.parse(at(2)), Date.parse(at(5))]);
  assert.equal(spans.has('b#1'), false, 'no merge was seen starting');
});

test("an attempt's pipeline steps are segments in time order, each labelled with its loop and try", () => {
  const at = (s) => new Date(Date.UTC(2026, 11, 8, 0, 0, s)).toISOString();
  const segments = stepSegments([
    { step: 'review', loop: 0, try: 1, status: 'failed', reason: 'changes requested', started_at: at(5), finished_at: at(6) },
    { step: 'plan', loop: 0, try: 1, status: 'discarded', started_at: at(0), finished_at: at(2) },
    { step: 'implement', loop: 1, try: 2, status: 'success', started_at: at(7), finished_at: at(9) },
    { step: 'broken', loop: 0, try: 1, status: 'success', started_at: 'not a date', finished_at: at(1) },
  ]);
  assert.deepEqual(segments.map((s) => s.label), [
    'plan: discarded', 'review: failed — changes requested', 'implement, loop 1, try 2: success',
  ]);
  assert.deepEqual(segments[0].span, [Date.parse(at(0)), Date.parse(at(2))]);
  assert.deepEqual(stepSegments(undefined), [], 'an attempt without a pipeline has none');
});

test('the cost curve steps up at each finished attempt, in time order', () => {
  const curve = costCurve([
    { finished_at: '2026-12-07T00:00:02Z', cost_usd: 0.5 },
    { finished_at: null, cost_usd: 9 },
    { finished_at: '2026-12-07T00:00:01Z', cost_usd: 0.25 },
  ], 0);
  assert.deepEqual(curve.map(([, c]) => c), [0, 0.25, 0.75]);
  const x = scale([0, 10], [100, 200]);
  assert.equal(x(5), 150);
  assert.equal(scale([3, 3], [0, 1])(3), 0, 'an empty domain does not divide by zero');
});
