export * from './spinlock.js';
export * from './rwlock.js';
export { lockStats, resetLockStats, type LockStat } from './profile.js';
export { lockdepReports, lockdepCount, lockdepEdges, clearLockdepReports, type LockdepReport } from './lockdep.js';
export { setProfiling, setLockTracing, setLockdep } from './instrument.js';
export { publishedOf, holds, heldDepth, progressSum } from './held.js';
export { takeWaitCounts, WAIT_COUNTS } from './wait.js';
export { setLockLayout, lockLayout, FLAG_HEAD_LOCKS, type LockLayout } from './layouts.js';
