/**
 * One memory measurement in a process of its own (it needs `--expose-gc` and
 * a heap nothing else grew): `node --expose-gc memory-child.mjs <tunnel|sse>
 * <count> <connections> <tickMs> <classes:0|1>`. Sends the {@link MemoryMeasure} over IPC.
 */
import { type MemoryKind, measureSubscriptionMemory } from "./memory/measure.js";

const [kind = "tunnel", count = "1000", connections = "4", tickMs = "100", classes = "0"] = process.argv.slice(2);
const result = await measureSubscriptionMemory(kind as MemoryKind, Number(count), Number(connections), Number(tickMs), {
  classes: classes === "1",
});
process.send?.({ type: "result", result });
process.exit(0);
