// server-stats.ts — the counters behind srvr, stat, mntr and cons: packets, request latency
// (min/avg/max in ms, as ZooKeeper's ServerStats), client response sizes; reset by srst.

import { LatencySummary } from './latency-summary.js';
import { ServerMetrics } from './server-metrics.js';

export class ServerStats {
  /** ZooKeeper's ServerMetrics that zkts measures (fsynctime, snapshottime, ...), shared with the data directory. */
  constructor(readonly metrics: ServerMetrics = new ServerMetrics()) {}

  /** readlatency / updatelatency: reads and writes apart, with percentiles. */
  readonly readLatency = new LatencySummary();
  readonly updateLatency = new LatencySummary();
  packetsReceived = 0;
  packetsSent = 0;
  minLatencyMs = Number.MAX_SAFE_INTEGER;
  maxLatencyMs = 0;
  totalLatencyMs = 0;
  latencyCount = 0;
  /**
   * Size of the last, smallest and largest reply or notification sent to a client, without its
   * length prefix (ZooKeeper's clientResponseStats, a BufferStats); -1 until the first.
   */
  lastResponseBytes = -1;
  minResponseBytes = -1;
  maxResponseBytes = -1;

  responseSent(bytes: number): void {
    this.lastResponseBytes = bytes;
    if (this.minResponseBytes === -1 || bytes < this.minResponseBytes) this.minResponseBytes = bytes;
    if (bytes > this.maxResponseBytes) this.maxResponseBytes = bytes;
  }

  recordLatency(ms: number): void {
    if (ms < this.minLatencyMs) this.minLatencyMs = ms;
    if (ms > this.maxLatencyMs) this.maxLatencyMs = ms;
    this.totalLatencyMs += ms;
    this.latencyCount++;
  }

  get avgLatencyMs(): number {
    return this.latencyCount === 0 ? 0 : this.totalLatencyMs / this.latencyCount;
  }

  get minLatency(): number {
    return this.latencyCount === 0 ? 0 : this.minLatencyMs;
  }

  reset(): void {
    this.metrics.reset();
    this.readLatency.reset();
    this.updateLatency.reset();
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.minLatencyMs = Number.MAX_SAFE_INTEGER;
    this.maxLatencyMs = 0;
    this.totalLatencyMs = 0;
    this.latencyCount = 0;
    this.lastResponseBytes = -1;
    this.minResponseBytes = -1;
    this.maxResponseBytes = -1;
  }
}
