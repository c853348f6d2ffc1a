/**
 * The Teams app icons, drawn from shapes so they can be rebuilt (`npm run teams:icons`): a shield
 * with a person, white on the accent colour (color.png, 192×192), and the same mark as white lines
 * on transparent (outline.png, 32×32; Teams wants only white with alpha there).
 */

/** The accent colour of the manifest, also the colour icon's background. */
export const ACCENT = "#1B5FAA";

export interface Icon {
  size: number;
  /** size × size RGBA pixels, rows top to bottom. */
  rgba: Uint8Array;
}

type Point = readonly [number, number];
/** Signed distance from a point to a shape (negative inside), in the canvas's units (0–1). */
type Shape = (p: Point) => number;

function quadratic(a: Point, c: Point, b: Point, steps = 48): Point[] {
  return Array.from({ length: steps }, (_, i) => {
    const t = i / steps;
    const [u, v, w] = [(1 - t) ** 2, 2 * t * (1 - t), t ** 2];
    return [u * a[0] + v * c[0] + w * b[0], u * a[1] + v * c[1] + w * b[1]] as const;
  });
}

function polygon(points: readonly Point[]): Shape {
  return ([x, y]) => {
    let distance = Number.POSITIVE_INFINITY;
    let inside = false;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [ax, ay] = points[j]!;
      const [bx, by] = points[i]!;
      const [dx, dy] = [bx - ax, by - ay];
      const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
      distance = Math.min(distance, Math.hypot(x - ax - t * dx, y - ay - t * dy));
      if (ay > y !== by > y && x < ax + ((y - ay) * dx) / dy) inside = !inside;
    }
    return inside ? -distance : distance;
  };
}

/** A heraldic shield filling the box: a top that rises to the middle, straight sides, curves to a point. */
function shield(left: number, top: number, width: number, height: number): Shape {
  const at = ([u, v]: Point): Point => [left + u * width, top + v * height];
  const outline = [
    ...quadratic([0, 0.14], [0.5, -0.14], [1, 0.14]),
    ...quadratic([1, 0.5], [1, 0.85], [0.5, 1]),
    ...quadratic([0.5, 1], [0, 0.85], [0, 0.5]),
  ];
  return polygon(outline.map(at));
}

/** A person: a round head over the top of a disc (the shoulders), cut flat at `base`. */
function person(cx: number, headY: number, headR: number, bodyY: number, bodyR: number, base: number): Shape {
  const head: Shape = ([x, y]) => Math.hypot(x - cx, y - headY) - headR;
  const body: Shape = ([x, y]) => Math.max(Math.hypot(x - cx, y - bodyY) - bodyR, y - base);
  return (p) => Math.min(head(p), body(p));
}

/** Coverage of a pixel by a shape, from its signed distance (a one-pixel soft edge). */
function coverage(shape: Shape, p: Point, size: number): number {
  return Math.max(0, Math.min(1, 0.5 - shape(p) * size));
}

function draw(size: number, paint: (p: Point) => readonly [number, number, number, number]): Icon {
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) rgba.set(paint([(x + 0.5) / size, (y + 0.5) / size]), (y * size + x) * 4);
  }
  return { size, rgba };
}

function hex(colour: string): [number, number, number] {
  return [1, 3, 5].map((i) => Number.parseInt(colour.slice(i, i + 2), 16)) as [number, number, number];
}

/** 192×192: the white mark, inside Teams' safe area (the middle ~120 px), on the accent colour to the edges. */
export function colorIcon(): Icon {
  const outer = shield(0.24, 0.18, 0.52, 0.64);
  const figure = person(0.5, 0.4, 0.075, 0.68, 0.155, 0.66);
  const mark: Shape = (p) => Math.max(outer(p), -figure(p));
  const background = hex(ACCENT);
  return draw(192, (p) => {
    const a = coverage(mark, p, 192);
    const [r, g, b] = background.map((c) => Math.round(c + (255 - c) * a));
    return [r!, g!, b!, 255];
  });
}

/** 32×32: the shield as a white line and the person filled, on transparent; only the alpha varies. */
export function outlineIcon(): Icon {
  const outer = shield(0.13, 0.04, 0.74, 0.92);
  const stroke = 2 / 32;
  const ring: Shape = (p) => Math.max(outer(p), -(outer(p) + stroke));
  const figure = person(0.5, 0.38, 0.095, 0.74, 0.2, 0.7);
  const mark: Shape = (p) => Math.min(ring(p), figure(p));
  return draw(32, (p) => [255, 255, 255, Math.round(255 * coverage(mark, p, 32))]);
}
