/**
 * Process metrics are read at scrape time: plausible values under the usual names, nothing per request.
 */
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { registerProcessMetrics } from "../../src/metrics/process-metrics.js";

describe("registerProcessMetrics", () => {
  it("exposes CPU, memory, heap, event-loop utilization, start time and version", async () => {
    const registry = new Registry();
    registerProcessMetrics(registry);
    const text = await registry.metrics();
    const value = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1]);
    expect(value("process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(value("process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
    expect(value("nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(value("nodejs_heap_size_total_bytes")).toBeGreaterThanOrEqual(
      value("nodejs_heap_size_used_bytes"),
    );
    const utilization = value("nodejs_eventloop_utilization");
    expect(utilization).toBeGreaterThanOrEqual(0);
    expect(utilization).toBeLessThanOrEqual(1);
    expect(
      Math.abs(value("process_start_time_seconds") - (Date.now() / 1000 - process.uptime())),
    ).toBeLessThan(2);
    expect(text).toContain(`nodejs_version_info{version="${process.version}"} 1`);
  });
});
