// The one place verify asks whether an outcome is expected, acceptable or forbidden for a strategy. An adapter
// until the shared judge (stress/judge.ts) lands; then this file goes and verify imports that one.
export { judge, type Verdict } from './scenario.js';
