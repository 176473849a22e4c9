// Prints "N passed, N failed" from vitest's JSON report as the last line.
// A run that failed before vitest (codegen, typecheck, lint, build) counts as one failure.
import { existsSync, readFileSync } from "node:fs";

const [reportPath, statusText] = process.argv.slice(2);
const status = Number(statusText);
if (!reportPath || !existsSync(reportPath)) {
  console.log(`0 passed, 1 failed`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(reportPath, "utf8"));
const passed = report.numPassedTests ?? 0;
let failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
// Suites that failed to load count as failures even when no test inside ran.
if (failed === 0 && (report.numFailedTestSuites ?? 0) > 0) failed = report.numFailedTestSuites;
if (failed === 0 && status !== 0) failed = 1;
if (passed + failed === 0) failed = 1;
// The closing line CI reads: "N passed, N failed", with ", N skipped" only when some were.
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
