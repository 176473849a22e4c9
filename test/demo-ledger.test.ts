// The demo page's own proof of delivery (demo/ledger.ts): counts against the tick grid.
import { describe, expect, it } from "vitest";
import { Ledger } from "../demo/ledger.js";

const TICK = 100;

describe("the demo's ledger", () => {
  it("expects one reading per tick from the first, and counts duplicates and gaps", () => {
    const ledger = new Ledger(undefined);
    for (const t of [1000, 1100, 1200, 1200, 1100, 1500]) ledger.add(t, TICK, 1500);
    expect(ledger.figures(TICK)).toMatchObject({ received: 6, expected: 6, duplicates: 2, gaps: 2 });
    // 6 received − 2 duplicates = 4 distinct readings of 6 expected: 2 lost, as the gaps say.
  });

  it("started after a cursor, expects every tick after it; history counts as replayed", () => {
    const ledger = new Ledger(1050);
    for (const t of [1100, 1200, 1300]) ledger.add(t, TICK, 5000);
    expect(ledger.figures(TICK)).toMatchObject({ received: 3, expected: 3, duplicates: 0, gaps: 0, replayed: 3 });
    const missedFirst = new Ledger(1050);
    missedFirst.add(1200, TICK, 1200);
    expect(missedFirst.figures(TICK)).toMatchObject({ received: 1, expected: 2, replayed: 0 });
  });

  it("counts resumes, and remembers a resume the server could not honour in full", () => {
    const ledger = new Ledger(undefined);
    ledger.opened(true);
    ledger.opened(true);
    expect(ledger.figures(TICK)).toMatchObject({ reconnects: 1, gapReported: false, expected: undefined });
    ledger.opened(false);
    expect(ledger.figures(TICK)).toMatchObject({ reconnects: 2, gapReported: true });
  });
});
