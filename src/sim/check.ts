/**
 * Did the analyser recover the truth? The busiest hour it names must be one of the model's busiest
 * hours; the most congested hour it names must be one of the model's congested hours (or, when the
 * model saw none, it must not name one with high confidence); each incident the profile injected
 * must show up as the cause it was. Pure.
 */
import type { AnalysisSummary, LikelyCause } from '../analysis/types.js';
import type { Incident } from './profile.js';

export interface TruthForCheck {
  busiestHours: number[];
  congestedHours: number[];
  /** Incidents with their absolute times (ms since the epoch). */
  incidents?: { cause: Incident['cause']; startMs: number; endMs: number; client?: string }[];
}

export interface IncidentCheck {
  cause: Incident['cause'];
  expected: LikelyCause;
  found: LikelyCause | null;
  ok: boolean;
}

export interface TruthCheck {
  busiest: { truth: number[]; analyser: number | null; ok: boolean };
  congested: { truth: number[]; analyser: number | null; confidence: string; ok: boolean };
  incidents: IncidentCheck[];
  ok: boolean;
}

/** What the analyser should call an episode of each injected cause. */
export const EXPECTED_CAUSE: Record<Incident['cause'], LikelyCause> = {
  'shared-link': 'server-or-shared-path',
  'access-link': 'client-path',
  'server-load': 'server-load',
};

const overlaps = (a: { startMs: number; endMs: number }, b: { start: string; end: string }) =>
  Date.parse(b.start) < a.endMs && Date.parse(b.end) > a.startMs;

export function checkTruth(s: AnalysisSummary, truth: TruthForCheck): TruthCheck {
  const busiest = {
    truth: truth.busiestHours,
    analyser: s.busiestHour.hour,
    ok: s.busiestHour.hour !== null && truth.busiestHours.includes(s.busiestHour.hour),
  };
  const named = s.mostCongestedHour.hour;
  const congested = {
    truth: truth.congestedHours,
    analyser: named,
    confidence: s.mostCongestedHour.confidence,
    ok:
      truth.congestedHours.length > 0
        ? named !== null && truth.congestedHours.includes(named)
        : named === null || s.mostCongestedHour.confidence !== 'high',
  };
  const incidents = (truth.incidents ?? []).map((i): IncidentCheck => {
    const expected = EXPECTED_CAUSE[i.cause];
    let found: LikelyCause | null = null;
    if (i.cause === 'access-link') {
      found = s.episodes.find((e) => e.client === i.client && overlaps(i, e))?.likelyCause ?? null;
    } else {
      found = s.networkEpisodes.find((e) => overlaps(i, e))?.likelyCause ?? null;
    }
    return { cause: i.cause, expected, found, ok: found === expected };
  });
  return { busiest, congested, incidents, ok: busiest.ok && congested.ok && incidents.every((i) => i.ok) };
}

const hh = (h: number | null) => (h === null ? 'none' : `${String(h).padStart(2, '0')}:00`);
const hours = (hs: number[]) => (hs.length === 0 ? 'none' : hs.map(hh).join(','));
const mark = (ok: boolean) => (ok ? 'recovered' : 'MISSED');

/** One line for the summary. */
export function formatTruthCheck(c: TruthCheck): string {
  const parts = [
    `busiest hour ${hh(c.busiest.analyser)} (truth ${hours(c.busiest.truth)}) ${mark(c.busiest.ok)}`,
    `most congested ${hh(c.congested.analyser)} (truth ${hours(c.congested.truth)}) ${mark(c.congested.ok)}`,
    ...c.incidents.map((i) => `${i.cause} incident seen as ${i.found ?? 'nothing'} ${mark(i.ok)}`),
  ];
  return `truth check: ${parts.join('; ')}`;
}
