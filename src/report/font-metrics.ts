/**
 * Advance widths of a TrueType font, read from its `cmap` (format 4, BMP) and `hmtx` tables, so
 * ECharts lays out labels, legends and titles with the widths of the font the PNG is drawn with
 * (its built-in guess is Arial-like; DejaVu Sans is about 10 % wider). Kerning is ignored.
 */

export interface FontMetrics {
  /** Width of `text` at `sizePx`, in px. */
  width(text: string, sizePx: number): number;
}

interface TableRecord {
  offset: number;
  length: number;
}

function tables(font: Buffer): Map<string, TableRecord> {
  const count = font.readUInt16BE(4);
  const map = new Map<string, TableRecord>();
  for (let i = 0; i < count; i++) {
    const at = 12 + i * 16;
    map.set(font.toString('latin1', at, at + 4), { offset: font.readUInt32BE(at + 8), length: font.readUInt32BE(at + 12) });
  }
  return map;
}

function need(map: Map<string, TableRecord>, tag: string): TableRecord {
  const t = map.get(tag);
  if (!t) throw new Error(`font has no '${tag}' table`);
  return t;
}

/** Glyph index of every BMP code unit (0 = .notdef) from the Windows Unicode BMP cmap subtable (format 4). */
function glyphIndexes(font: Buffer, cmap: TableRecord): Uint16Array {
  const glyphs = new Uint16Array(65_536);
  const subtables = font.readUInt16BE(cmap.offset + 2);
  let sub = -1;
  for (let i = 0; i < subtables; i++) {
    const at = cmap.offset + 4 + i * 8;
    const platform = font.readUInt16BE(at);
    const encoding = font.readUInt16BE(at + 2);
    const offset = cmap.offset + font.readUInt32BE(at + 4);
    if (((platform === 3 && encoding === 1) || platform === 0) && font.readUInt16BE(offset) === 4) sub = offset;
  }
  if (sub < 0) throw new Error('font has no format 4 cmap subtable');
  const segments = font.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + segments * 2 + 2;
  const deltas = starts + segments * 2;
  const rangeOffsets = deltas + segments * 2;
  for (let s = 0; s < segments; s++) {
    const end = font.readUInt16BE(ends + s * 2);
    const start = font.readUInt16BE(starts + s * 2);
    const delta = font.readInt16BE(deltas + s * 2);
    const rangeAt = rangeOffsets + s * 2;
    const range = font.readUInt16BE(rangeAt);
    for (let c = start; c <= end && c < 0xffff; c++) {
      if (range === 0) {
        glyphs[c] = (c + delta) & 0xffff;
      } else {
        const g = font.readUInt16BE(rangeAt + range + (c - start) * 2);
        glyphs[c] = g === 0 ? 0 : (g + delta) & 0xffff;
      }
    }
  }
  return glyphs;
}

/** Reads the metrics of a TrueType font file's bytes. */
export function readFontMetrics(font: Buffer): FontMetrics {
  const map = tables(font);
  const unitsPerEm = font.readUInt16BE(need(map, 'head').offset + 18);
  const hMetrics = font.readUInt16BE(need(map, 'hhea').offset + 34);
  const hmtx = need(map, 'hmtx').offset;
  const glyphs = glyphIndexes(font, need(map, 'cmap'));
  const advance = (glyph: number) => font.readUInt16BE(hmtx + Math.min(glyph, hMetrics - 1) * 4);
  // Advance per BMP code unit in em; characters outside the BMP take the .notdef width.
  const ems = new Float32Array(65_536);
  for (let c = 0; c < 65_536; c++) ems[c] = advance(glyphs[c]!) / unitsPerEm;
  return {
    width(text, sizePx) {
      let em = 0;
      for (let i = 0; i < text.length; i++) em += ems[text.charCodeAt(i)]!;
      return em * sizePx;
    },
  };
}
