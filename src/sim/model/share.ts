/**
 * Max-min fair sharing by progressive filling (the fluid model of flow-level simulators): every
 * flow's rate rises equally from 0; a flow stops rising at its own cap, or when a link on its path
 * is full, and then the others keep rising. Pure; rates in Mbit/s.
 *
 * A class stands for `count` identical flows (the background traffic of a link is one class of
 * many flows), so the work per call grows with the number of classes, not of flows.
 */

export interface ShareLink {
  capacityMbps: number;
}

export interface FlowClass {
  /** Indexes into the links array. */
  path: readonly number[];
  /** How many identical flows this class stands for (> 0). */
  count: number;
  /** Each flow's own limit (its access link, or its demand); Infinity when none. */
  capMbps: number;
}

export interface Sharing {
  /** Rate of one flow of each class. */
  rateMbps: Float64Array;
  /** Per link: sum of the rates crossing it. */
  loadMbps: Float64Array;
  /** Per link: full, with flows whose rate it set (their bottleneck). */
  saturated: Uint8Array;
  /** Per class: the link that froze it, or -1 when its own cap did. */
  bottleneck: Int32Array;
}

const EPSILON = 1e-9;

export function maxMinShare(links: readonly ShareLink[], classes: readonly FlowClass[]): Sharing {
  const rateMbps = new Float64Array(classes.length);
  const loadMbps = new Float64Array(links.length);
  const saturated = new Uint8Array(links.length);
  const bottleneck = new Int32Array(classes.length).fill(-1);
  const frozen = new Uint8Array(classes.length);
  let level = 0;
  let unfrozen = classes.length;
  for (let c = 0; c < classes.length; c++) {
    if (classes[c]!.count <= 0) {
      frozen[c] = 1;
      unfrozen--;
    }
  }
  const weight = new Float64Array(links.length);
  while (unfrozen > 0) {
    weight.fill(0);
    let next = Infinity;
    for (let c = 0; c < classes.length; c++) {
      if (frozen[c]) continue;
      const k = classes[c]!;
      next = Math.min(next, k.capMbps);
      for (const l of k.path) weight[l]! += k.count;
    }
    for (let l = 0; l < links.length; l++) {
      if (weight[l]! > 0) next = Math.min(next, level + Math.max(0, links[l]!.capacityMbps - loadMbps[l]!) / weight[l]!);
    }
    // Raise every unfrozen flow to `next`.
    const raise = next - level;
    for (let c = 0; c < classes.length; c++) {
      if (frozen[c]) continue;
      const k = classes[c]!;
      rateMbps[c] = next;
      for (const l of k.path) loadMbps[l]! += raise * k.count;
    }
    level = next;
    for (let l = 0; l < links.length; l++) {
      if (weight[l]! > 0 && loadMbps[l]! >= links[l]!.capacityMbps * (1 - EPSILON) - EPSILON) saturated[l] = 1;
    }
    for (let c = 0; c < classes.length; c++) {
      if (frozen[c]) continue;
      const k = classes[c]!;
      const full = k.path.find((l) => saturated[l] === 1);
      if (full !== undefined) bottleneck[c] = full;
      if (full !== undefined || k.capMbps <= level + EPSILON) {
        frozen[c] = 1;
        unfrozen--;
      }
    }
    if (!Number.isFinite(level)) break;
  }
  return { rateMbps, loadMbps, saturated, bottleneck };
}
