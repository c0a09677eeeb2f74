// webhook.ts — POSTs every change under some paths to an HTTP endpoint, as JSON, with retries.
// One POST per txn ({"changes": [...]}, header X-Zkts-Zxid), in zxid order. A 2xx answer is
// delivered; anything else (or no answer within timeoutMs) is retried with exponential backoff
// up to `retries` times, after which the listener call fails. With `stateFile`, delivery is
// at-least-once: the last delivered zxid is kept in that file, a failed txn is retried until the
// endpoint takes it, and after a restart the missed txns are replayed from the txn log (the
// receiver should be idempotent on X-Zkts-Zxid). Without it, a txn that exhausts its retries is
// counted as failed and skipped.
//
//   plugin.4=./examples/plugins/webhook.ts
//   plugin.4.url=https://hooks.example.com/zk
//   plugin.4.paths=/config,/services
//   plugin.4.stateFile=/var/lib/zkts/webhook.zxid
//
// In your own plugin, import from 'zkts/plugin'.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { definePlugin, option } from '../../src/plugin/index.js';
import { changeRecords, under } from './txn-json.js';

async function readCursor(file: string): Promise<bigint> {
  try {
    return BigInt((await readFile(file, 'utf8')).trim() || '0');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0n;
    throw e;
  }
}

async function writeCursor(file: string, zxid: bigint): Promise<void> {
  await writeFile(`${file}.tmp`, `${zxid}\n`);
  await rename(`${file}.tmp`, file);
}

export default definePlugin({
  name: 'webhook',
  version: '1.0.0',
  options: {
    url: option.string({ pattern: /^https?:\/\//, description: 'the endpoint to POST to' }),
    paths: option.list(option.string({ pattern: /^\// }), { default: ['/'] }),
    retries: option.integer({ default: 5, min: 0, max: 100 }),
    timeoutMs: option.integer({ default: 2000, min: 1 }),
    backoffMs: option.integer({ default: 200, min: 0 }),
    includeData: option.boolean({ default: false }),
    stateFile: option.string({ optional: true, description: 'keeps the last delivered zxid (at-least-once)' }),
    queue: option.integer({ default: 10_000, min: 1 }),
  },
  setup(ctx) {
    const { url, paths, retries, timeoutMs, backoffMs, includeData, stateFile, queue } = ctx.options;
    const maxBackoffMs = backoffMs * 2 ** Math.min(retries, 6);
    const stop = new AbortController();
    ctx.onStop(() => stop.abort());

    async function post(zxid: bigint, body: string): Promise<void> {
      let last = '';
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) await sleep(Math.min(backoffMs * 2 ** (attempt - 1), maxBackoffMs), undefined, { signal: stop.signal });
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-zkts-zxid': `0x${zxid.toString(16)}` },
            body,
            signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stop.signal]),
          });
          await res.arrayBuffer().catch(() => undefined);
          if (res.ok) return;
          last = `HTTP ${res.status}`;
        } catch (e) {
          if (stop.signal.aborted) throw e;
          last = (e as Error).message;
        }
      }
      throw new Error(`POST ${url} failed ${retries + 1} times (last: ${last})`);
    }

    ctx.changeListener({
      queue,
      // each call may take every attempt and every backoff
      deadlineMs: (retries + 1) * timeoutMs + maxBackoffMs * (retries + 1) + 1000,
      ...(stateFile !== undefined ? { cursor: () => readCursor(stateFile) } : {}),
      async onTxn(hdr, txn, result, info) {
        const changes = changeRecords(hdr, txn, result, info, includeData).filter((r) => under(r, paths));
        if (changes.length > 0) await post(hdr.zxid, JSON.stringify({ changes }));
        if (stateFile !== undefined) await writeCursor(stateFile, hdr.zxid);
      },
    });
  },
});
