// The page's own proof that nothing was lost: it checks every reading a
// subscription delivers against the server's tick grid (one reading per city
// every tickMs, timestamps on tick boundaries), independently of the SDK.

/** What one city's subscription has delivered, as the page counted it. */
export interface LedgerFigures {
  readonly received: number;
  /** Readings the ticks from the start to the latest reading call for; undefined until the tick is known. */
  readonly expected: number | undefined;
  /** Readings at or before one already delivered. */
  readonly duplicates: number;
  /** Ticks skipped between consecutive readings. */
  readonly gaps: number;
  /** Readings that arrived more than one tick after their time: history the server replayed. */
  readonly replayed: number;
  /** Opens after the first (reconnects and transport switches). */
  readonly reconnects: number;
  /** True once the server said a resume could not reach back far enough (gaps are then expected). */
  readonly gapReported: boolean;
}

export class Ledger {
  received = 0;
  duplicates = 0;
  gaps = 0;
  replayed = 0;
  opens = 0;
  gapReported = false;
  private first: number | undefined;
  private last: number | undefined;

  /** `startAfterMs`: the cursor the subscription started after, when it asked for history. */
  constructor(private readonly startAfterMs: number | undefined) {}

  /** Counts one reading; `tickMs` is the server's tick when known, `nowMs` the page's clock. */
  add(timestampMs: number, tickMs: number | undefined, nowMs: number): void {
    this.received++;
    const last = this.last;
    if (last !== undefined && timestampMs <= last) {
      this.duplicates++;
      return;
    }
    if (last !== undefined && tickMs !== undefined) this.gaps += Math.max(0, Math.round((timestampMs - last) / tickMs) - 1);
    // Until the tick is known, anything a second old counts as history.
    if (nowMs - timestampMs > (tickMs ?? 1000) * 1.5) this.replayed++;
    this.first ??= timestampMs;
    this.last = timestampMs;
  }

  opened(recovered: boolean): void {
    this.opens++;
    if (!recovered) this.gapReported = true;
  }

  figures(tickMs: number | undefined): LedgerFigures {
    let expected: number | undefined;
    if (tickMs !== undefined && this.last !== undefined && this.first !== undefined) {
      const from = this.startAfterMs === undefined ? this.first : this.startAfterMs - (this.startAfterMs % tickMs) + tickMs;
      expected = Math.max(0, Math.round((this.last - from) / tickMs) + 1);
    }
    return {
      received: this.received,
      expected,
      duplicates: this.duplicates,
      gaps: this.gaps,
      replayed: this.replayed,
      reconnects: Math.max(0, this.opens - 1),
      gapReported: this.gapReported,
    };
  }
}
