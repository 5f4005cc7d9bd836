/**
 * One declaration per option. A command's table lists each setting once (config key, zod type,
 * help, default with its unit); the commander flag (`--kebab-case`), the config-file key
 * (camelCase), the environment variable (`NETPROBE_SNAKE_CASE`) and docs/cli.md all come from it.
 */
import type { Command } from 'commander';
import type { z } from 'zod';

export interface OptionSpec {
  /** The config-file key, camelCase; the flag is its kebab-case, the variable NETPROBE_ + SNAKE_CASE. */
  key: string;
  type: z.ZodType<unknown, unknown>;
  help: string;
  /** Placeholder of the flag's value ('<duration>'); a flag without one is a switch (true when given). */
  arg?: string;
  /** One-letter alias of the flag. */
  short?: string;
  /** The default as a user writes it ('60s', '10MiB'): parsed by `type`, shown in help and docs. */
  default?: string;
  /** Shown when there is no fixed default ('hostname:port', 'off'). */
  defaultText?: string;
  /** The flag may be repeated (and each value may be a comma-separated list). */
  repeatable?: boolean;
  /** The library's name for it (`intervalMs`), when that differs from `key`. Never shown to users. */
  to?: string;
  /**
   * The name it had before (`intervalMs`): still read from config files and NETPROBE_INTERVAL_MS for
   * one version, with a warning naming the new key. A number under an old …Ms / …Bytes key keeps
   * meaning milliseconds / bytes.
   */
  was?: string;
  /** Missing from every source is an error. */
  required?: boolean;
  /** Only on the command line (`--config` itself, one-off switches). */
  flagOnly?: boolean;
}

export interface CommandTable {
  /** As typed: 'client', 'store prune'. */
  command: string;
  /** The command also reads a config file (--config) and NETPROBE_* variables. */
  configurable: boolean;
  /** A positional argument (`certs client <name>`), with its help. */
  argument?: { name: string; help: string };
  options: readonly OptionSpec[];
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function flagOf(spec: Pick<OptionSpec, 'key'>): string {
  return `--${kebab(spec.key)}`;
}

/** camelCase key → NETPROBE_SNAKE_CASE. */
export function envOf(key: string): string {
  return `NETPROBE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** The default as shown: '60s', 'hostname:port'; undefined when there is none. */
export function defaultShown(spec: OptionSpec): string | undefined {
  return spec.default ?? spec.defaultText;
}

export function helpText(spec: OptionSpec): string {
  const shown = defaultShown(spec);
  return shown === undefined ? spec.help : `${spec.help} (default ${shown})`;
}

/** Collects a repeatable flag's raw values. */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Declares the table's flags on `command`. Values stay raw strings: `resolveOptions` parses them. */
export function addOptions(command: Command, table: CommandTable): Command {
  if (table.argument) command.argument(table.argument.name, table.argument.help);
  for (const spec of table.options) {
    const flags = `${spec.short ? `-${spec.short}, ` : ''}${flagOf(spec)}${spec.arg ? ` ${spec.arg}` : ''}`;
    if (spec.repeatable) command.option(flags, helpText(spec), collect);
    else command.option(flags, helpText(spec));
  }
  return command;
}
