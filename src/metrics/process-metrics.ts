/**
 * Process metrics read at scrape time, under prom-client's default names: collectDefaultMetrics keeps a GC
 * observer and a delay timer running between scrapes and cost VerifyKey 10-15% (docs/bench.md).
 */
import type { Registry } from "prom-client";
import { registerCollectedMetric } from "./collected-metric.js";

export function registerProcessMetrics(registry: Registry): void {
  const startTime = Math.round(Date.now() / 1000 - process.uptime());

  registerCollectedMetric(registry, {
    name: "process_cpu_user_seconds_total",
    help: "User CPU time spent in seconds.",
    type: "counter",
    collect: () => [{ value: process.cpuUsage().user / 1e6 }],
  });
  registerCollectedMetric(registry, {
    name: "process_cpu_system_seconds_total",
    help: "System CPU time spent in seconds.",
    type: "counter",
    collect: () => [{ value: process.cpuUsage().system / 1e6 }],
  });
  registerCollectedMetric(registry, {
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    type: "counter",
    collect: () => {
      const usage = process.cpuUsage();
      return [{ value: (usage.user + usage.system) / 1e6 }];
    },
  });
  registerCollectedMetric(registry, {
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
    type: "gauge",
    collect: () => [{ value: startTime }],
  });
  registerCollectedMetric(registry, {
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    type: "gauge",
    collect: () => [{ value: process.memoryUsage.rss() }],
  });
  registerCollectedMetric(registry, {
    name: "nodejs_heap_size_total_bytes",
    help: "Process heap size from Node.js in bytes.",
    type: "gauge",
    collect: () => [{ value: process.memoryUsage().heapTotal }],
  });
  registerCollectedMetric(registry, {
    name: "nodejs_heap_size_used_bytes",
    help: "Process heap size used from Node.js in bytes.",
    type: "gauge",
    collect: () => [{ value: process.memoryUsage().heapUsed }],
  });
  registerCollectedMetric(registry, {
    name: "nodejs_external_memory_bytes",
    help: "Node.js external memory size in bytes.",
    type: "gauge",
    collect: () => [{ value: process.memoryUsage().external }],
  });
  let previousUtilization = performance.eventLoopUtilization();
  registerCollectedMetric(registry, {
    name: "nodejs_eventloop_utilization",
    help: "Share of the time since the previous scrape the event loop spent working (0-1): saturation.",
    type: "gauge",
    collect: () => {
      const current = performance.eventLoopUtilization();
      const since = performance.eventLoopUtilization(current, previousUtilization);
      previousUtilization = current;
      return [{ value: Number.isFinite(since.utilization) ? since.utilization : 0 }];
    },
  });
  registerCollectedMetric(registry, {
    name: "nodejs_version_info",
    help: "Node.js version info.",
    type: "gauge",
    collect: () => [{ labels: { version: process.version }, value: 1 }],
  });
}
