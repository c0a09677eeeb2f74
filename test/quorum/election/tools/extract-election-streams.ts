// extract-election-streams.ts — reads the capture of a real ZooKeeper 3.8.0 ensemble
// (/work/shared/protocol/captures/ensemble-3.8.0.pcap, loopback, election ports 13888/23888/33888
// for sids 1-3 and 43888 for the Python observer probe, sid 4) and writes the election-port TCP
// streams, reassembled as pcapdecode.py does, to fixtures/election-streams-3.8.0.json: one entry
// per direction of each connection, the bytes in hex. The codec tests read that file, so the
// golden bytes are exactly what the Java servers sent.
//   node --import tsx test/quorum/election/tools/extract-election-streams.ts [capture.pcap]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PCAP = process.argv[2] ?? '/work/shared/protocol/captures/ensemble-3.8.0.pcap';
const ELECTION_PORTS = new Map([[13888, 1], [23888, 2], [33888, 3], [43888, 4]]);

interface Stream { sport: number; dport: number; isn: number; t0: number; segs: Map<number, Buffer> }

const f = readFileSync(PCAP);
if (f.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${PCAP}: not a little-endian microsecond pcap`);
const streams = new Map<string, Stream>();
const order: Stream[] = [];
for (let off = 24; off < f.length; ) {
  const ts = f.readUInt32LE(off) + f.readUInt32LE(off + 4) / 1e6;
  const incl = f.readUInt32LE(off + 8);
  const pkt = f.subarray(off + 16, off + 16 + incl);
  off += 16 + incl;
  if (pkt.readUInt16BE(12) !== 0x0800) continue; // Ethernet (loopback as DLT_EN10MB) + IPv4 only
  const ip = pkt.subarray(14);
  const ihl = (ip[0] & 15) * 4;
  const tcp = ip.subarray(ihl, ip.readUInt16BE(2));
  const sport = tcp.readUInt16BE(0);
  const dport = tcp.readUInt16BE(2);
  const seq = tcp.readUInt32BE(4);
  const data = tcp.subarray((tcp[12] >> 4) * 4);
  const key = `${sport}>${dport}`;
  if (tcp[13] & 0x02) {
    const s = { sport, dport, isn: (seq + 1) >>> 0, t0: ts, segs: new Map() };
    streams.set(key, s);
    order.push(s);
    continue;
  }
  const s = streams.get(key);
  if (s && data.length > 0) s.segs.set(seq, Buffer.from(data));
}

function assemble(s: Stream): Buffer {
  const parts: Buffer[] = [];
  let next = s.isn;
  for (const seq of [...s.segs.keys()].sort((a, b) => a - b)) {
    const d = s.segs.get(seq)!;
    if (seq + d.length <= next) continue;
    if (seq > next) break;
    parts.push(d.subarray(next - seq));
    next = seq + d.length;
  }
  return Buffer.concat(parts);
}

const out = [];
for (const s of order.sort((a, b) => a.t0 - b.t0)) {
  const initiator = ELECTION_PORTS.has(s.dport);
  if (!initiator && !ELECTION_PORTS.has(s.sport)) continue;
  const bytes = assemble(s);
  if (bytes.length === 0) continue;
  out.push({
    from: `127.0.0.1:${s.sport}`,
    to: `127.0.0.1:${s.dport}`,
    // listenerSid: whose election port the connection was made to. The dialling side's stream starts with the connection header; the other side's does not.
    dialer: initiator,
    listenerSid: ELECTION_PORTS.get(initiator ? s.dport : s.sport),
    hex: bytes.toString('hex'),
  });
}
const file = join(import.meta.dirname, '..', 'fixtures', 'election-streams-3.8.0.json');
writeFileSync(file, JSON.stringify({ source: 'ensemble-3.8.0.pcap (captured from a 3-node Apache ZooKeeper 3.8.0 ensemble on 127.0.0.1 with Python observer probes as sid 4)', streams: out }, null, 1) + '\n');
console.log(`${out.length} election streams -> ${file}`);
