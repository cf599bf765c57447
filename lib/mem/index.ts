export * from './crash.js';
export * from './layout.js';
export * from './machine.js';
export * from './heap.js';
