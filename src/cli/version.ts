import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The package's version (`netprobe --version`, bug reports). */
export const VERSION = pkg.version;
