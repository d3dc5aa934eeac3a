/**
 * Scatter labels placed by placeLabels do not overlap each other or other markers, where the room exists:
 * two points a few pixels apart (notebook 04's DT and DC at D=16) get labels on different sides.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { paddedRange, placeLabels, type LabelArea } from '../../src/figures/labels';

/** The label box as placeLabels estimates it, to check the result independently of its search. */
function box(px: number, py: number, text: string, position: string, font = 12, r = 4) {
  const w = text.length * font * 0.6;
  const h = font * 1.2;
  const [v, hz] = position.split(' ');
  const cx = hz === 'center' ? px : hz === 'right' ? px + r + w / 2 : px - r - w / 2;
  const cy = v === 'middle' ? py : v === 'top' ? py - r - h / 2 : py + r + h / 2;
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}
const overlaps = (a: number[], b: number[]) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

test('labels of close points go to different sides and never overlap', () => {
  const points = [
    { x: 24_000, y: 6.4, text: 'D=16' },
    { x: 25_000, y: 6.2, text: 'D=16' },
    { x: 33_000, y: 5.6, text: 'D=16' },
    { x: 60_000, y: 9.2, text: 'D=32' },
    { x: 71_000, y: 12.4, text: 'D=32' },
    { x: 10_000, y: 31.3, text: 'D=16' },
  ];
  const area: LabelArea = {
    width: 670,
    height: 300,
    xRange: paddedRange(
      points.map((p) => p.x),
      true,
    ),
    yRange: paddedRange(
      points.map((p) => p.y),
      false,
      0.15,
    ),
    xLog: true,
  };
  const positions = placeLabels(points, area);
  const px = (p: { x: number; y: number }) => [
    ((Math.log10(p.x) - area.xRange[0]) / (area.xRange[1] - area.xRange[0])) * area.width,
    (1 - (p.y - area.yRange[0]) / (area.yRange[1] - area.yRange[0])) * area.height,
  ];
  const boxes = points.map((p, i) => box(px(p)[0], px(p)[1], p.text, positions[i]));
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++)
      assert.ok(!overlaps(boxes[i], boxes[j]), `labels ${i} and ${j} overlap (${positions[i]}, ${positions[j]})`);
  // With all labels at Plotly's one fixed position, the first two would overlap: the test can fail.
  assert.ok(
    overlaps(
      box(...(px(points[0]) as [number, number]), 'D=16', 'top center'),
      box(...(px(points[1]) as [number, number]), 'D=16', 'top center'),
    ),
  );
});

test('a lone point keeps the preferred position; a point at the top edge puts its label below', () => {
  const area: LabelArea = { width: 400, height: 200, xRange: [0, 10], yRange: [0, 10] };
  assert.deepEqual(placeLabels([{ x: 5, y: 5, text: 'a' }], area), ['top center']);
  assert.deepEqual(placeLabels([{ x: 5, y: 10, text: 'a' }], area), ['bottom center']);
});
