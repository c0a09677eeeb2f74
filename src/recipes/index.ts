// index.ts — zkts/recipes: coordination recipes on zkts/client (locks, semaphores, elections,
// barriers, queues, counters, caches), each with its guarantee stated where it is defined.
export { ExponentialBackoffRetry, RetryNTimes, RetryUntilElapsed, DEFAULT_RETRY, isTransient, withRetry } from './retry.js';
export type { RetryPolicy } from './retry.js';
export { Mutex, SemaphoreMutex } from './mutex.js';
export type { LockOptions, MutexOptions } from './mutex.js';
export { Semaphore } from './semaphore.js';
export type { Lease } from './semaphore.js';
export { LeaderLatch, LeaderSelector } from './leader.js';
export type { LeaderLatchEvents, LeaderSelectorOptions } from './leader.js';
export { DistributedAtomicLong, SharedCount } from './counter.js';
export type { AtomicLongOptions, AtomicResult, AtomicUpdateResult } from './counter.js';
export { ensurePath, sequenceOf } from './paths.js';
export { ReadWriteLock } from './rw-lock.js';
export { TreeCache, PathChildrenCache, NodeCache } from './tree-cache.js';
export type { ChildData, TreeCacheEvents, TreeCacheOptions } from './tree-cache.js';
export { Barrier, DoubleBarrier } from './barrier.js';
export type { WaitOptions } from './barrier.js';
export { DistributedQueue, DistributedDelayQueue } from './queue.js';
export type { QueueOptions, TakeOptions } from './queue.js';
export { PersistentNode, GroupMember } from './persistent-node.js';
export type { PersistentNodeEvents } from './persistent-node.js';
export { MultiLock } from './multi-lock.js';
