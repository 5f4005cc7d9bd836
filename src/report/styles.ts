/** The report page's stylesheet (inline: the page is one self-contained file). Light, print-friendly. */
export const REPORT_CSS = `
:root {
  --text: #1f2328; --muted: #57606a; --line: #d8dee4; --soft: #f6f8fa; --accent: #0072B2;
  --bad: #D55E00; --warn: #E69F00; --good: #009E73; --net: #CC79A7;
  font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Verdana, sans-serif;
  color: var(--text); background: #fff; line-height: 1.45;
}
* { box-sizing: border-box; }
body { margin: 0; }
main { max-width: 1160px; margin: 0 auto; padding: 28px 24px 56px; }
header.top { border-bottom: 1px solid var(--line); padding-bottom: 16px; margin-bottom: 22px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h1 .brand { color: var(--accent); }
h2 { font-size: 19px; margin: 34px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 13px; margin: 0 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
p { margin: 6px 0; }
.meta { color: var(--muted); font-size: 14px; }
.totals { display: flex; flex-wrap: wrap; gap: 8px 26px; margin-top: 12px; font-size: 14px; }
.totals b { font-size: 18px; display: block; color: var(--text); }
.totals span { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 14px; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; background: #fff; border-top: 4px solid var(--accent); }
.card.congested { border-top-color: var(--bad); }
.card.worst { border-top-color: var(--warn); }
.card.network { border-top-color: var(--net); }
.card .big { font-size: 24px; font-weight: 700; margin: 2px 0 4px; font-variant-numeric: tabular-nums; color: var(--text); }
.card .none { font-size: 16px; font-weight: 600; color: var(--muted); margin: 6px 0; }
.card p, .card li { font-size: 13.5px; color: var(--muted); }
.card ol, .card ul { margin: 6px 0 0; padding-left: 20px; }
.card li { margin: 3px 0; }
.card li b { color: var(--text); }
.badge { display: inline-block; font-size: 11.5px; font-weight: 600; padding: 1px 7px; border-radius: 10px; background: var(--soft); border: 1px solid var(--line); color: var(--muted); white-space: nowrap; }
.badge.high { background: #e6f4ea; border-color: #b7dfc3; color: #1a6b33; }
.badge.low { background: #fff4e0; border-color: #f2d49b; color: #7a4d00; }
.badge.bad { background: #fdeee6; border-color: #f3c3a6; color: #a0410a; }
.empty { border: 1px dashed var(--line); border-radius: 10px; padding: 22px; background: var(--soft); font-size: 15px; }
details { margin: 10px 0; }
summary { cursor: pointer; color: var(--accent); font-weight: 600; }
ul.findings { padding-left: 20px; margin: 8px 0; font-size: 14px; }
ul.findings li { margin: 3px 0; }
.kind { font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); margin-right: 6px; }
.table-wrap { overflow: auto; border: 1px solid var(--line); border-radius: 8px; max-height: 640px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 7px; text-align: right; white-space: nowrap; border-bottom: 1px solid #eef1f4; }
th { position: sticky; top: 0; background: var(--soft); font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); z-index: 1; }
th small { display: block; font-weight: 400; font-size: 11px; }
td.name, th.name { text-align: left; }
td.name { font-weight: 600; max-width: 260px; overflow: hidden; text-overflow: ellipsis; }
tbody tr:nth-child(even) { background: #fbfcfd; }
tr.troubled td.name::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--bad); margin-right: 7px; vertical-align: 1px; }
td.bad { color: #a0410a; font-weight: 600; }
td .dim, td.dim { color: #8c959f; }
figure { margin: 18px 0 30px; }
figure .chart { border: 1px solid var(--line); border-radius: 10px; overflow: hidden; background: #fff; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { font-size: 13.5px; color: var(--muted); margin-top: 8px; max-width: 900px; }
figcaption .files { white-space: nowrap; }
.nodata { color: var(--muted); font-style: italic; }
a { color: var(--accent); }
footer { margin-top: 40px; border-top: 1px solid var(--line); padding-top: 12px; font-size: 12.5px; color: var(--muted); }
footer code { font-size: 12px; }
@media print { .table-wrap { max-height: none; overflow: visible; } figure { break-inside: avoid; } }
`;
