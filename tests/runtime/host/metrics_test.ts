import assert from "node:assert/strict";
import { Metrics } from "../../../runtime/host/mod.ts";

Deno.test("Metrics renders counters, gauges and escaped labels", () => {
  const m = new Metrics();
  m.counter("c_total", "A counter", { app: 'we"ird\\' });
  m.counter("c_total", "A counter", { app: 'we"ird\\' }, 2);
  m.gauge("g", "A gauge", {}, 5);
  const text = m.render();
  assert.match(text, /# HELP c_total A counter\n# TYPE c_total counter\n/);
  assert.match(text, /c_total\{app="we\\"ird\\\\"\} 3\n/);
  assert.match(text, /\ng 5\n/);
  assert.equal(m.get("c_total", { app: 'we"ird\\' }), 3);
});

Deno.test("Metrics renders cumulative histogram buckets, sum and count", () => {
  const m = new Metrics();
  for (const v of [0.001, 0.02, 3]) m.observe("h", "Hist", { app: "x" }, v, [0.01, 1]);
  const text = m.render();
  assert.match(text, /h_bucket\{app="x",le="0.01"\} 1\n/);
  assert.match(text, /h_bucket\{app="x",le="1"\} 2\n/);
  assert.match(text, /h_bucket\{app="x",le="\+Inf"\} 3\n/);
  assert.match(text, /h_sum\{app="x"\} 3.021\n/);
  assert.match(text, /h_count\{app="x"\} 3\n/);
});

Deno.test("Metrics refuses to reuse a name with another type", () => {
  const m = new Metrics();
  m.counter("x", "", {});
  assert.throws(() => m.gauge("x", "", {}, 1), /is a counter/);
});
