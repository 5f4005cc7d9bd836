#!/bin/sh
# Regenerates docs/img/hours.png, the README's picture: the report's hour-of-day chart for a
# simulated week (model engine, 50 clients, evening-peak, seed 42). About a minute; no build needed.
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node --import tsx src/cli/index.ts simulate --clients 50 --span 7d --seed 42 --out "$work/sim" --log-level warn >/dev/null
node --import tsx src/cli/index.ts report --store "$work/sim/netprobe.db" --out "$work/report" --png-scale 1 >/dev/null
mkdir -p docs/img
cp "$work/report/charts/hours.png" docs/img/hours.png
echo "wrote docs/img/hours.png"
