// The C backend's source side: which Xen tree, which patches, the compiler cache, provenance. What lib/cxen/ and
// the commands use; everything else in this folder is its parts.

export { prepareXenTree, cachedXenTrees, type XenTree, type PrepareOptions } from './tree.js';
export { compileCached, compilerIdentity, touch, type CompileSpec, type CompileSource, type Compiled } from './compile.js';
export { xenProvenance, provenanceLine, type XenProvenance } from './provenance.js';
export { XenSourceError, CompileError, isXenSourceError, NO_CC, type XenSourceErrorKind } from './errors.js';
export { checkXenTree, identify, type XenGeneration, type XenIdentity } from './identify.js';
export { cacheDir } from './cache.js';
export { pruneCompileCache, PRUNE_DEFAULTS, type PruneLimits } from './prune.js';
