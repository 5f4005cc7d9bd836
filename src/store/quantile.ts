/**
 * The one percentile definition netprobe uses: linear interpolation between the closest ranks,
 * as numpy's default (`method='linear'`) and PostgreSQL's `percentile_cont`. For sorted values
 * x[0..n-1] and p in [0, 1]: h = (n - 1)·p, result = x[⌊h⌋] + (h - ⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋]).
 * Stores and the analysis share it so that an aggregate computed in SQL equals one computed here.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const below = sorted[lo]!;
  if (lo >= n - 1) return sorted[n - 1]!;
  const above = sorted[lo + 1]!;
  return below + (h - lo) * (above - below);
}

/**
 * percentileSorted's value without sorting: expected O(n) selection. Reorders `values` in place;
 * they must not contain NaN.
 */
export function percentileSelect(values: Float64Array, p: number): number | null {
  const n = values.length;
  if (n === 0) return null;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const below = select(values, lo);
  if (lo >= n - 1) return below;
  // After select, everything right of `lo` is ≥ below: the next order statistic is their minimum.
  let above = Infinity;
  for (let i = lo + 1; i < n; i++) if (values[i]! < above) above = values[i]!;
  return below + (h - lo) * (above - below);
}

/** The k-th smallest (0-based); quickselect with a median-of-three pivot, sorting once it stalls. */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  let budget = 2 * Math.ceil(Math.log2(a.length + 1)) + 8;
  while (right > left) {
    if (budget-- === 0) {
      a.subarray(left, right + 1).sort();
      return a[k]!;
    }
    const mid = (left + right) >> 1;
    const pivot = median3(a[left]!, a[mid]!, a[right]!);
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k]!;
  }
  return a[k]!;
}

const median3 = (x: number, y: number, z: number): number => Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
