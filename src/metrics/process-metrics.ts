/**
 * Process metrics read at scrape time, under prom-client's default names: collectDefaultMetrics keeps a GC
 * observer and a delay timer running between scrapes and cost VerifyKey 10-15% (docs/bench.md).
 */
import type { Registry } from "prom-client";
import { registerCollectedMetric } from "./collected-metric.js";

export function registerProcessMetrics(registry: Registry): void {
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  const metric = (type: "counter" | "gauge") => (name: string, help: string, read: () => number) =>
    registerCollectedMetric(registry, { name, help, type, collect: () => [{ value: read() }] });
  const counter = metric("counter");
  const gauge = metric("gauge");
  const cpu = () => process.cpuUsage();
  const memory = () => process.memoryUsage();

  counter("process_cpu_user_seconds_total", "User CPU time spent in seconds.", () => cpu().user / 1e6);
  counter("process_cpu_system_seconds_total", "System CPU time spent in seconds.", () => cpu().system / 1e6);
  counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", () => {
    const usage = cpu();
    return (usage.user + usage.system) / 1e6;
  });
  gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    () => startTime,
  );
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", () => process.memoryUsage.rss());
  gauge("nodejs_heap_size_total_bytes", "Process heap size from Node.js in bytes.", () => memory().heapTotal);
  gauge(
    "nodejs_heap_size_used_bytes",
    "Process heap size used from Node.js in bytes.",
    () => memory().heapUsed,
  );
  gauge("nodejs_external_memory_bytes", "Node.js external memory size in bytes.", () => memory().external);
  let previousUtilization = performance.eventLoopUtilization();
  gauge(
    "nodejs_eventloop_utilization",
    "Share of the time since the previous scrape the event loop spent working (0-1): saturation.",
    () => {
      const current = performance.eventLoopUtilization();
      const since = performance.eventLoopUtilization(current, previousUtilization);
      previousUtilization = current;
      return Number.isFinite(since.utilization) ? since.utilization : 0;
    },
  );
  registerCollectedMetric(registry, {
    name: "nodejs_version_info",
    help: "Node.js version info.",
    type: "gauge",
    collect: () => [{ labels: { version: process.version }, value: 1 }],
  });
}
