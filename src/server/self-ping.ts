/**
 * Self probes (capability 'self-ping'): PINGs a client sends on a connection while its transfer
 * runs there, the draft-ietf-ippm-responsiveness "self probes". The server answers each with a PONG
 * written between the payload's DATA frames (a download in duration mode) or while it receives one
 * (an upload), so the round trip includes the queues the transfer itself builds. A client may send
 * at most the draft's MPS (100) a second, plus a small burst: PONGs cost the server writes and the
 * client nothing.
 */
import { ErrorCodes, NetprobeError } from '../errors.js';
import type { MessageOf } from '../protocol/messages.js';

/** The draft's MPS: responsiveness probes a second. */
export const MAX_SELF_PINGS_PER_SECOND = 100;
/** PINGs allowed at once on top of the rate (a client's timer may fire late, then catch up). */
export const SELF_PING_BURST = 10;

export class SelfPings {
  private answered = 0;

  /** `monoNow`: monotonic ms (performance.now()); `startMs` its reading when the transfer began. */
  constructor(
    private readonly startMs: number,
    private readonly monoNow: () => number,
  ) {}

  /** The PONG for `ping`; throws NETPROBE_LIMIT when the client probes faster than allowed. */
  pong(ping: MessageOf<'PING'>, serverTimeMs: number): MessageOf<'PONG'> {
    this.answered++;
    const allowed = SELF_PING_BURST + (MAX_SELF_PINGS_PER_SECOND * Math.max(0, this.monoNow() - this.startMs)) / 1000;
    if (this.answered > allowed) {
      throw new NetprobeError(
        ErrorCodes.limit,
        `more than ${MAX_SELF_PINGS_PER_SECOND} PINGs a second during a transfer (${this.answered} so far)`,
      );
    }
    return { type: 'PONG', seq: ping.seq, serverTimeMs };
  }
}
