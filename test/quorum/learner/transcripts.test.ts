// Transcript tests of the ObserverCore (transcript.ts runs them): each transcripts/*.txt is a
// script of inputs with the actions expected after each. ZKTS_UPDATE_TRANSCRIPTS=1 rewrites the
// files with what the core does now — then read the diff before committing it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTranscript } from './transcript.js';

const DIR = join(import.meta.dirname, 'transcripts');

for (const name of readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort()) {
  test(`transcript ${name}`, () => {
    const file = join(DIR, name);
    const text = readFileSync(file, 'utf8');
    const got = runTranscript(text.replace(/\n$/, '')) + '\n';
    if (process.env.ZKTS_UPDATE_TRANSCRIPTS === '1') writeFileSync(file, got);
    else assert.equal(got, text);
  });
}
