// When discover sends its DISCOVERs: retransmitted (same xid) every retryMs, at most `tries`
// of them, and none once the listening window has closed.

export interface DiscoverSchedule {
  /** Listening window, ms. */
  waitMs: number;
  /** Retransmit when this long has passed since the last DISCOVER, ms. */
  retryMs: number;
  /** At most this many DISCOVERs. */
  tries: number;
}

/** When the next DISCOVER goes out (ms since start), or null when no more are due. */
export function nextDiscoverAt(sent: number, s: DiscoverSchedule): number | null {
  if (sent >= s.tries) return null;
  const at = sent * s.retryMs;
  return at < s.waitMs ? at : null;
}
