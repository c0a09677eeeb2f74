// golden-helpers.ts — shared by the codec tests: loading the captured fixtures in
// test/protocol/golden, and mapping what client-codec decodes (Response, OpResult) to the input of
// the server-side encoder in src/protocol/responses.ts, so a decoded reply can be re-encoded.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpResult, Response } from '../../src/protocol/client-codec.js';
import { OpCode } from '../../src/protocol/opcodes.js';
import type { ACL, Stat } from '../../src/protocol/records.js';
import type { MultiResult, ResponseBody } from '../../src/protocol/responses.js';

export const goldenDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');

export interface GoldenFrame {
  conn: number;
  direction: 'c2s' | 's2c';
  hex: string;
  raw?: true;
}

export interface Fixture {
  name: string;
  client: string;
  scenario: string;
  note: string;
  frames: GoldenFrame[];
}

export function loadFixtures(): Fixture[] {
  return readdirSync(goldenDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.slice(0, -5), ...(JSON.parse(readFileSync(path.join(goldenDir, f), 'utf8')) as Omit<Fixture, 'name'>) }));
}

/** client-codec's decoded response as the server-side encoder's input. */
export function toResponseBody(b: Response | OpResult): ResponseBody {
  switch (b.type) {
    case OpCode.create:
    case OpCode.sync:
      return { kind: 'path', path: (b as { path: string }).path };
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL: {
      const x = b as { path: string; stat: Stat };
      return { kind: 'pathStat', path: x.path, stat: x.stat };
    }
    case OpCode.exists:
    case OpCode.setData:
    case OpCode.setACL:
    case OpCode.check:
      return 'stat' in b ? { kind: 'stat', stat: b.stat } : { kind: 'none' };
    case OpCode.getData:
    case OpCode.reconfig: {
      const x = b as { data: Buffer | null; stat: Stat };
      return { kind: 'data', data: x.data, stat: x.stat };
    }
    case OpCode.getACL: {
      const x = b as { acl: ACL[]; stat: Stat };
      return { kind: 'acl', acl: x.acl, stat: x.stat };
    }
    case OpCode.getChildren:
      return { kind: 'children', children: (b as { children: string[] }).children };
    case OpCode.getChildren2: {
      const x = b as { children: string[]; stat: Stat };
      return { kind: 'children2', children: x.children, stat: x.stat };
    }
    case OpCode.getAllChildrenNumber:
      return { kind: 'int', value: (b as { totalNumber: number }).totalNumber };
    case OpCode.addWatch:
      return { kind: 'int', value: (b as { err: number }).err };
    case OpCode.getEphemerals:
      return { kind: 'strings', values: (b as { ephemerals: string[] }).ephemerals };
    case OpCode.whoAmI:
      return { kind: 'clientInfo', infos: (b as { clientInfo: { authScheme: string; user: string }[] }).clientInfo };
    case OpCode.sasl:
      return { kind: 'token', token: (b as { token: Buffer | null }).token };
    case OpCode.multi:
    case OpCode.multiRead:
      return {
        kind: 'multi',
        results: (b as { results: OpResult[] }).results.map(
          (r): MultiResult => (r.type === OpCode.error ? { type: r.type, err: r.err } : { type: r.type, body: toResponseBody(r) }),
        ),
      };
    default:
      return { kind: 'none' };
  }
}

