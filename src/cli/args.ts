import { InvalidArgumentError } from 'commander';
import { parseDurationMs, parseInteger } from '../units.js';

/** Wraps a parser for commander: a value it rejects is a usage error (exit 2) with its message. */
export function asArg<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

export const intArg = (what: string, min = 0, max?: number) => asArg((t) => parseInteger(t, what, min, max));
export const durationArg = (what: string) => asArg((t) => parseDurationMs(t, what));
