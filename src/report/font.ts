/**
 * The report's font: DejaVu Sans, shipped in assets/fonts (package.json "files" includes assets/)
 * with its licence. The PNGs are drawn with it and ECharts measures text with its widths; the SVGs
 * and the HTML name it first, then Verdana, whose widths are nearly the same.
 */
import { fileURLToPath } from 'node:url';

/** src/report and dist/report are both two levels below the package root. */
const FONT_DIR = new URL('../../assets/fonts/', import.meta.url);

export const FONT_FILES = {
  regular: fileURLToPath(new URL('DejaVuSans.ttf', FONT_DIR)),
  bold: fileURLToPath(new URL('DejaVuSans-Bold.ttf', FONT_DIR)),
};

export const FONT_FAMILY = "'DejaVu Sans', Verdana, sans-serif";
