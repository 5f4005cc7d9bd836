/**
 * HTML assembly. Every value interpolated with the `html` tag is escaped (client names come from
 * certificates and error messages from clients); only markup built by this module (`Safe`) and
 * chart SVG rendered by ECharts (which escapes its text, and is checked for active content) go in
 * unescaped. The page is one self-contained file: inline CSS, inline SVG, no script, no request.
 */

/** Markup that is already safe to insert. */
export class Safe {
  constructor(readonly text: string) {}
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Value = Safe | string | number | null | undefined | false | readonly Value[];

function render(value: Value): string {
  if (value instanceof Safe) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<td>${name}</td>\`` escapes `name`; nested `html` results and arrays of them pass through. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Safe {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Safe(out);
}

/** Elements and attributes that would make an SVG active; ECharts never writes them. */
const ACTIVE_ELEMENTS = new Set(['script', 'foreignobject', 'iframe', 'object', 'embed', 'use', 'a', 'animate', 'set', 'image']);
const ACTIVE_ATTRIBUTE = /(^|\s)(on[a-z]+|href|xlink:href)\s*=/i;

/**
 * Throws when a tag of `svg` is active. Text nodes are not inspected: ECharts escapes '<' and
 * '>' in text, so every '<' starts a tag it wrote.
 */
export function checkSvg(svg: string, label: string): void {
  for (const [, name, attributes] of svg.matchAll(/<\/?([A-Za-z][\w:-]*)([^>]*)>/g)) {
    if (ACTIVE_ELEMENTS.has(name!.toLowerCase()) || ACTIVE_ATTRIBUTE.test(attributes!)) {
      throw new Error(`chart ${label}: the rendered SVG holds an active <${name}> tag`);
    }
  }
}

/** A chart's SVG document for inline use; throws if it holds anything active. */
export function inlineSvg(svg: string, label: string): Safe {
  checkSvg(svg, label);
  const body = svg.replace(/^<\?xml[^>]*>\s*/, '');
  return new Safe(body.replace(/^<svg\b/, `<svg role="img" aria-label="${escapeHtml(label)}"`));
}

export interface PageParts {
  title: string;
  css: string;
  body: Safe;
}

export function page(p: PageParts): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="netprobe">
<title>${escapeHtml(p.title)}</title>
<style>${p.css}</style>
</head>
<body>
${p.body.text}
</body>
</html>
`;
}
