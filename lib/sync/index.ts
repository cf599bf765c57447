export * from './spinlock.js';
export * from './rwlock.js';
export { lockStats, resetLockStats, setProfiling, setLockTracing, type LockStat } from './profile.js';
export { lockdepReports, lockdepCount, lockdepEdges, setLockdep, clearLockdepReports, type LockdepReport } from './lockdep.js';
export { publishedOf, holds, heldDepth } from './held.js';
