import { InvalidArgumentError } from 'commander';

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
