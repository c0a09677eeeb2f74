// session-state.ts — the session's state machine as a pure function: (state, input) → next state
// and the event the client emits for the transition. The connection feeds it what happened on
// the wire (a handshake, a lost connection, an expiry, an auth failure, a close); every legal
// transition is in one table, and an input a state does not accept leaves it unchanged, so
// nothing can move a terminal state.
import type { SessionState } from './types.js';

export type SessionInput =
  /** A ConnectResponse with a live session; `newSession` when its id differs from the last one. */
  | { kind: 'handshake'; readOnly: boolean; newSession: boolean }
  /** The TCP connection closed or timed out; the session may live on. */
  | { kind: 'connectionLost' }
  /** The server said the session is gone, or no server was heard from for too long. */
  | { kind: 'expired' }
  /** No session could be created before the deadline (first connect only). */
  | { kind: 'gaveUp' }
  | { kind: 'authFailed' }
  | { kind: 'close' };

/** The events a transition emits, named after the state entered (or 'reconnected'). */
export type SessionEvent = 'connected' | 'reconnected' | 'readOnly' | 'suspended' | 'expired' | 'closed' | 'authFailed';

export interface Transition {
  state: SessionState;
  event: SessionEvent | null;
}

/** Which states each state may move to; terminal states move nowhere. */
export const TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  connecting: ['connected', 'readOnly', 'closed', 'authFailed', 'expired'],
  connected: ['suspended', 'closed', 'authFailed', 'expired'],
  readOnly: ['suspended', 'closed', 'authFailed', 'expired'],
  suspended: ['connected', 'readOnly', 'closed', 'authFailed', 'expired'],
  expired: [],
  closed: [],
  authFailed: [],
};

export function isTerminal(state: SessionState): boolean {
  return TRANSITIONS[state].length === 0;
}

export function isConnectedState(state: SessionState): boolean {
  return state === 'connected' || state === 'readOnly';
}

export function step(state: SessionState, input: SessionInput): Transition {
  const next = target(state, input);
  if (next === state || !TRANSITIONS[state].includes(next)) return { state, event: null };
  return { state: next, event: eventFor(state, next, input) };
}

function target(state: SessionState, input: SessionInput): SessionState {
  switch (input.kind) {
    case 'handshake':
      return input.readOnly ? 'readOnly' : 'connected';
    case 'connectionLost':
      return state === 'connecting' ? 'connecting' : 'suspended';
    case 'expired':
      return 'expired';
    case 'gaveUp':
      return state === 'connecting' ? 'closed' : 'expired';
    case 'authFailed':
      return 'authFailed';
    case 'close':
      return 'closed';
  }
}

function eventFor(from: SessionState, to: SessionState, input: SessionInput): SessionEvent {
  if (to === 'connected') {
    const resumed = from === 'suspended' && input.kind === 'handshake' && !input.newSession;
    return resumed ? 'reconnected' : 'connected';
  }
  if (to === 'connecting') throw new Error('no transition enters connecting');
  return to;
}
