/**
 * Polygons drawn on a camera's picture (zones and masks), in coordinates normalised to 0..1 of the
 * frame, so they hold at any decode width.
 */
export type Point = [number, number];
export type Polygon = Point[];

/** Even-odd rule: true when (x, y) is inside the polygon (all in the same units). */
export function pointInPolygon(x: number, y: number, polygon: Polygon): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** True when the normalised point is inside any of the polygons. */
export function inAnyPolygon(x: number, y: number, polygons: Polygon[]): boolean {
  return polygons.some((p) => pointInPolygon(x, y, p));
}

/**
 * The polygons as a width x height mask (1 inside any polygon, 0 outside), sampling each pixel at its
 * centre: what a stage working at that resolution (motion detection) ignores.
 */
export function rasterisePolygons(polygons: Polygon[], width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const polygon of polygons) {
    if (polygon.length < 3) continue;
    let minY = 1;
    let maxY = 0;
    for (const [, y] of polygon) {
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
    const rowFrom = Math.max(0, Math.floor(minY * height));
    const rowTo = Math.min(height - 1, Math.ceil(maxY * height));
    for (let row = rowFrom; row <= rowTo; row++) {
      const y = (row + 0.5) / height;
      // Scanline: the x positions where the row crosses the edges, filled pairwise (even-odd).
      const xs: number[] = [];
      for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
        const [xi, yi] = polygon[i];
        const [xj, yj] = polygon[j];
        if (yi > y !== yj > y) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        // Pixel centres (col + 0.5) / width within [xs[k], xs[k+1]).
        const from = Math.max(0, Math.ceil(xs[k] * width - 0.5));
        const to = Math.min(width - 1, Math.ceil(xs[k + 1] * width - 0.5) - 1);
        for (let col = from; col <= to; col++) mask[row * width + col] = 1;
      }
    }
  }
  return mask;
}
