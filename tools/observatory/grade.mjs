// Grades a running Rampart with the MDN HTTP Observatory's own retriever and grader.
// Usage: node tools/observatory/grade.mjs <observatory-package-dir> <host> <httpPort> <httpsPort> [minScore]
// The package's scan() drops custom ports, so this does what scan() does, with the ports kept.
import path from "node:path";
import { pathToFileURL } from "node:url";

const [pkgDir, host = "localhost", httpPort = "5000", httpsPort = "5001", minScore = "100"] = process.argv.slice(2);
if (!pkgDir) {
  console.error("usage: node tools/observatory/grade.mjs <package-dir> <host> <httpPort> <httpsPort> [minScore]");
  process.exit(2);
}
const load = (p) => import(pathToFileURL(path.join(pkgDir, "src", p)).href);
const { retrieve } = await load("retriever/retriever.js");
const { ALL_TESTS, NUM_TESTS } = await load("constants.js");
const { MINIMUM_SCORE_FOR_EXTRA_CREDIT } = await load("grader/charts.js");
const { getGradeForScore, getScoreModifier } = await load("grader/grader.js");

const r = await retrieve(host, { httpPort: Number(httpPort), httpsPort: Number(httpsPort) });
if (!r.responses.auto) {
  console.error("observatory: the site did not answer");
  process.exit(1);
}

let withCredit = 100;
let uncurved = 100;
let passed = 0;
const rows = [];
for (const test of ALL_TESTS) {
  const result = test(r);
  if (!result.result) continue;
  const modifier = getScoreModifier(result.result);
  withCredit += modifier;
  if (modifier < 0) uncurved += modifier;
  if (result.pass) passed += 1;
  rows.push({ test: result.constructor.name, result: result.result, pass: result.pass, modifier });
}
const score = uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withCredit : uncurved;
const { grade } = getGradeForScore(score);
for (const row of rows) {
  console.log(`${row.pass ? "pass" : "FAIL"}  ${String(row.modifier).padStart(4)}  ${row.test.padEnd(28)} ${row.result}`);
}
console.log(`observatory: grade ${grade}, score ${score}, ${passed}/${NUM_TESTS} tests passed (status ${r.responses.auto.status})`);
process.exit(score >= Number(minScore) ? 0 : 1);
