import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, UsageError } from '../errors.js';

/**
 * A load profile says, for each hour of the (UTC) day, how active the users are (share of clients
 * measuring, relative) and how much of the shared link's capacity is available. Outage windows make
 * the server unreachable.
 */
const hours24 = z.array(z.number().finite().min(0).max(1)).length(24);
const windowShape = { startHour: z.number().min(0), endHour: z.number().min(0) };
const window = z.strictObject(windowShape).refine((o) => o.endHour > o.startHour, 'endHour must be after startHour');
export const INCIDENT_CAUSES = ['shared-link', 'access-link', 'server-load'] as const;
const incidentSchema = z
  .strictObject({
    ...windowShape,
    cause: z.enum(INCIDENT_CAUSES),
    /** shared-link and access-link: share of the capacity left, 0–1. */
    remaining: z.number().min(0).max(1).default(0.1),
    /** access-link: which client, 1-based. */
    client: z.number().int().min(1).default(1),
    /** server-load: transfers the server runs for others meanwhile. */
    extraTransfers: z.number().int().min(1).max(100_000).default(200),
  })
  .refine((o) => o.endHour > o.startHour, 'endHour must be after startHour');
export type Incident = z.infer<typeof incidentSchema>;

export const profileSchema = z.strictObject({
  name: z.string().min(1).max(64),
  description: z.string().max(500).default(''),
  /** Relative measurement activity per hour, 0–1 (1 = the busiest). */
  activity: hours24,
  /** Share of the shared link's capacity available per hour, 0–1 (1 = all of it). */
  capacity: hours24,
  /**
   * Other traffic offered to the shared link per hour, as a share of its full capacity (model
   * engine). Default: 0.6 × activity (the users who measure also use the link).
   */
  background: hours24.optional(),
  /** Server unreachable windows, in simulated hours from the start of the run. */
  outages: z.array(window).max(100).default([]),
  /**
   * Episodes with a known cause (model engine), in simulated hours from the start of the run:
   * the shared link keeps `remaining` of its capacity; one client's access link (`client`, 1-based)
   * keeps `remaining` of its cap; or the server runs `extraTransfers` other transfers at once.
   */
  incidents: z.array(incidentSchema).max(100).default([]),
});

export type Profile = z.infer<typeof profileSchema>;

/** Background share per hour: the profile's, or 0.6 × activity. */
export const backgroundOf = (p: Profile): number[] => p.background ?? p.activity.map((a) => Math.round(0.6 * a * 1000) / 1000);

const flat = Array<number>(24).fill(1);
/** A smooth bump centred on `peak` hours, between `low` and 1. */
export function bump(peaks: number[], low: number, width = 2.5): number[] {
  return Array.from({ length: 24 }, (_, h) => {
    const nearest = Math.max(...peaks.map((p) => Math.exp(-((Math.min(Math.abs(h - p), 24 - Math.abs(h - p)) / width) ** 2))));
    return Math.round((low + (1 - low) * nearest) * 1000) / 1000;
  });
}
export const invert = (xs: number[], floor: number) => xs.map((x) => Math.round((1 - (1 - floor) * x) * 1000) / 1000);

const eveningActivity = bump([20], 0.15);
const businessActivity = bump([10, 14], 0.1, 3);
const doubleActivity = bump([8, 19], 0.15, 2);

export const BUILTIN_PROFILES: Record<string, Profile> = {
  flat: { name: 'flat', description: 'steady activity and capacity all day', activity: flat, capacity: flat, outages: [], incidents: [] },
  'evening-peak': {
    name: 'evening-peak',
    description: 'home broadband: most use around 20:00, when the shared link is congested',
    activity: eveningActivity,
    capacity: invert(eveningActivity, 0.3),
    outages: [],
    incidents: [],
  },
  'business-hours': {
    name: 'business-hours',
    description: 'office network: busy 09:00–17:00 with a lunch dip; congested late morning and afternoon',
    activity: businessActivity,
    capacity: invert(businessActivity, 0.3),
    outages: [],
    incidents: [],
  },
  'double-peak': {
    name: 'double-peak',
    description: 'commuter pattern: a morning and an evening peak, both congested',
    activity: doubleActivity,
    capacity: invert(doubleActivity, 0.3),
    outages: [],
    incidents: [],
  },
  outage: {
    name: 'outage',
    description: 'evening peak plus a server outage in the small hours of the first day',
    activity: eveningActivity,
    capacity: invert(eveningActivity, 0.3),
    outages: [{ startHour: 2, endHour: 4 }],
    incidents: [],
  },
};

/** A built-in profile by name, or a JSON/YAML file. */
export function loadProfile(nameOrPath: string): Profile {
  const builtin = BUILTIN_PROFILES[nameOrPath];
  if (builtin) return builtin;
  if (!/\.(json|ya?ml)$/i.test(nameOrPath)) {
    throw new UsageError(`unknown profile '${nameOrPath}': use one of ${Object.keys(BUILTIN_PROFILES).join(', ')} or a .json/.yaml file`);
  }
  let data: unknown;
  try {
    const text = readFileSync(nameOrPath, 'utf8');
    data = /\.json$/i.test(nameOrPath) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`cannot read profile ${nameOrPath}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = profileSchema.safeParse(data);
  if (!parsed.success) throw new ConfigError(`invalid profile ${nameOrPath}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Hours (0–23) ranked: the busiest (most activity) and the congested ones (least capacity per unit of activity). */
export function profileTruth(profile: Profile): { busiestHour: number; congestedHours: number[]; leastCapacityHour: number } {
  const argmax = (xs: number[]) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);
  const argmin = (xs: number[]) => xs.reduce((best, x, i) => (x < xs[best]! ? i : best), 0);
  const maxCap = Math.max(...profile.capacity);
  const congestedHours = profile.capacity.flatMap((c, h) => (c <= 0.5 * maxCap ? [h] : []));
  return { busiestHour: argmax(profile.activity), congestedHours, leastCapacityHour: argmin(profile.capacity) };
}
