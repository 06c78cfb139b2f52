import { describe, expect, it } from 'vitest';
import { inAnyPolygon, pointInPolygon, rasterisePolygons, type Polygon } from '../../core/geometry/polygon.js';

const square: Polygon = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]];
const triangle: Polygon = [[0, 0], [1, 0], [0, 1]];

describe('polygons', () => {
  it('tells points inside from outside, concave shapes included', () => {
    expect(pointInPolygon(0.5, 0.5, square)).toBe(true);
    expect(pointInPolygon(0.1, 0.5, square)).toBe(false);
    expect(pointInPolygon(0.9, 0.9, triangle)).toBe(false);
    expect(pointInPolygon(0.2, 0.2, triangle)).toBe(true);
    // A "U": the notch between its arms is outside.
    const u: Polygon = [[0, 0], [0.3, 0], [0.3, 0.7], [0.7, 0.7], [0.7, 0], [1, 0], [1, 1], [0, 1]];
    expect(pointInPolygon(0.5, 0.3, u)).toBe(false);
    expect(pointInPolygon(0.5, 0.9, u)).toBe(true);
    expect(inAnyPolygon(0.9, 0.9, [triangle, square])).toBe(false);
    expect(inAnyPolygon(0.6, 0.6, [triangle, square])).toBe(true);
  });

  it('rasterises at any resolution, every pixel agreeing with the point test at its centre', () => {
    for (const [w, h] of [[8, 6], [32, 18], [7, 13]]) {
      const mask = rasterisePolygons([square, triangle], w, h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const cx = (x + 0.5) / w;
        const cy = (y + 0.5) / h;
        expect(mask[y * w + x], `${w}x${h} at ${x},${y}`).toBe(inAnyPolygon(cx, cy, [square, triangle]) ? 1 : 0);
      }
    }
    const m = rasterisePolygons([square], 8, 8);
    expect(m.reduce((a, b) => a + b, 0)).toBe(16);
  });
});
