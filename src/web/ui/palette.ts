/**
 * One colour per client while there are few enough to tell apart (the chart draws a line each and
 * the table shows the swatch). Red and amber are kept for congestion and failures.
 */
export const MAX_CLIENT_LINES = 8;
const PALETTE = ['#58a6ff', '#56d364', '#bc8cff', '#39c5cf', '#ff9bce', '#e3b341', '#a5d6ff', '#8ddb8c'];

export const COLORS = {
  dot: '#58a6ff',
  congested: '#f85149',
  failed: '#d29922',
  median: '#e6edf3',
  selected: '#d2a8ff',
  grid: '#21262d',
  axis: '#30363d',
  text: '#8b949e',
};

/** Client → colour, by name order (stable as results arrive); empty when there are too many clients. */
export function clientColors(clients: Iterable<string>): Map<string, string> {
  const names = [...new Set(clients)].sort();
  if (names.length > MAX_CLIENT_LINES) return new Map();
  return new Map(names.map((name, i) => [name, PALETTE[i % PALETTE.length]!]));
}
