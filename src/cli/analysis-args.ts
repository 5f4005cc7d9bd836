import { existsSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { THRESHOLD_NAMES, type Thresholds } from '../analysis/options.js';
import { parseDurationMs } from '../units.js';
import { asArg } from './args.js';

/** Option parsers shared by `analyse` and `report`, which take the same analysis options. */

export function collectClients(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((c) => c.trim()).filter((c) => c !== '')];
}

/** 'name=value'; …Ms thresholds take durations (15m), the others numbers or percentages (50%). */
export function collectThreshold(text: string, previous: Partial<Thresholds> = {}): Partial<Thresholds> {
  const m = /^([A-Za-z]+)=(.+)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`'${text}' is not name=value (example: gapFactor=4)`);
  const name = m[1] as keyof Thresholds;
  const raw = m[2]!;
  if (!THRESHOLD_NAMES.includes(name)) throw new InvalidArgumentError(`unknown threshold '${name}' (known: ${THRESHOLD_NAMES.join(', ')})`);
  let value: number;
  if (name.endsWith('Ms')) {
    value = asArg((t) => parseDurationMs(t, name))(raw);
  } else {
    const percent = /^(-?\d+(?:\.\d+)?)%$/.exec(raw);
    value = percent ? Number(percent[1]) / 100 : Number(raw);
    if (!Number.isFinite(value)) throw new InvalidArgumentError(`threshold ${name}: '${raw}' is not a number`);
  }
  return { ...previous, [name]: value };
}

export function parseBucket(text: string): number | 'auto' {
  return text === 'auto' ? 'auto' : parseDurationMs(text, 'bucket');
}

/** A SQLite location whose file does not exist (a PostgreSQL URL never is). */
export function storePathMissing(location: string): boolean {
  if (/^postgres(ql)?:\/\//i.test(location)) return false;
  const path = location.startsWith('sqlite:') ? location.slice('sqlite:'.length) : location;
  return path !== '' && !existsSync(path);
}
