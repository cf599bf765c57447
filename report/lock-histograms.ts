// Lock histograms in JSON: HdrHistogram's compressed base64 encoding (what other HdrHistogram tools read), made
// and read on the main thread only (the encoder pulls in zlib and a WebAssembly build workers need not load).

import * as hdr from 'hdr-histogram-js';
import { newHistogram, type LockHistograms, type JsHistogram } from '../lib/sync/profile.js';

/** Per lock class name: wait and hold histograms, compressed base64. */
export type EncodedLockHistograms = Record<string, { wait?: string; hold?: string }>;

export function encodeLockHistograms(h: Map<string, LockHistograms>): EncodedLockHistograms {
  const out: EncodedLockHistograms = {};
  for (const [name, t] of h) {
    out[name] = { ...(t.wait.totalCount ? { wait: hdr.encodeIntoCompressedBase64(t.wait) } : {}), ...(t.hold.totalCount ? { hold: hdr.encodeIntoCompressedBase64(t.hold) } : {}) };
  }
  return out;
}

/** Add encoded histograms (a saved run's) into per-class totals. */
export function decodeLockHistograms(into: Map<string, LockHistograms>, add: EncodedLockHistograms | undefined): void {
  for (const [name, e] of Object.entries(add ?? {})) {
    let t = into.get(name);
    if (!t) { t = { wait: newHistogram(), hold: newHistogram() }; into.set(name, t); }
    // Decoding without WebAssembly (the default) makes a JsHistogram, which is what add() takes.
    if (e.wait) t.wait.add(hdr.decodeFromCompressedBase64(e.wait) as unknown as JsHistogram);
    if (e.hold) t.hold.add(hdr.decodeFromCompressedBase64(e.hold) as unknown as JsHistogram);
  }
}
