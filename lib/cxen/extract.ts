// The part of a Xen C file that the lab's paths reach: its top-level items (functions, declarations, types,
// preprocessor lines) and the closure, over the file's own call graph, of a set of roots. What is not reached is
// blanked line for line, so the compiled text keeps the tree's line numbers (a crash or an ASSERT names the line a
// reviewer sees). Used for passthrough/pci.c, whose unreached half (domctls with guest handles, ACPI HEST,
// keyhandlers, command-line parsing) would otherwise need declarations nothing the lab runs uses.
//
// The parse is Xen's coding style, not C's grammar: comments, strings and character literals are masked, a
// function is a top-level item whose first '{' follows ')', anything else ends at a top-level ';'.

export interface CItem { start: number; end: number; kind: 'pp' | 'function' | 'decl'; names: string[]; refs: Set<string> }

/** text with comments, string and character literals replaced by spaces (newlines kept). */
export function maskC(text: string): string {
  const out = text.split('');
  let i = 0;
  const blank = (a: number, b: number): void => { for (let k = a; k < b; k++) if (out[k] !== '\n') out[k] = ' '; };
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '*') { const e = text.indexOf('*/', i + 2); const end = e < 0 ? text.length : e + 2; blank(i, end); i = end; continue; }
    if (c === '/' && text[i + 1] === '/') { const e = text.indexOf('\n', i); const end = e < 0 ? text.length : e; blank(i, end); i = end; continue; }
    if (c === '"' || c === '\'') {
      let k = i + 1;
      while (k < text.length && text[k] !== c && text[k] !== '\n') k += text[k] === '\\' ? 2 : 1;
      blank(i + 1, k);
      i = k + 1;
      continue;
    }
    i++;
  }
  return out.join('');
}

const IDENT = /[A-Za-z_]\w*/g;
const KEYWORDS = new Set(['struct', 'union', 'enum', 'typedef', 'static', 'const', 'unsigned', 'signed', 'int', 'char', 'void',
  'long', 'short', 'bool', 'extern', 'inline', 'volatile', 'return', 'if', 'else', 'for', 'while', 'do', 'switch', 'case',
  'default', 'break', 'continue', 'goto', 'sizeof']);

/** The names a declaration item defines: each declarator's identifier, a struct/union tag, enum constants. */
function declNames(m: string): string[] {
  const names: string[] = [];
  const tag = /^\s*(?:typedef\s+)?(?:static\s+)?(?:const\s+)?(?:struct|union|enum)\s+([A-Za-z_]\w*)\s*\{/.exec(m);
  if (tag) names.push(tag[1]);
  if (/\benum\b[^{;]*\{/.test(m)) {
    const body = m.slice(m.indexOf('{') + 1, m.lastIndexOf('}'));
    for (const part of body.split(',')) { const id = /^\s*([A-Za-z_]\w*)/.exec(part); if (id) names.push(id[1]); }
  }
  // Top level of the item, brace bodies and initialisers removed: "static struct x  phantom_devs[8]".
  let flat = '', depth = 0;
  for (const ch of m) { if (ch === '{') depth++; if (depth === 0) flat += ch; if (ch === '}') depth--; }
  flat = flat.replace(/;\s*$/, '');
  const paren = flat.indexOf('(');
  if (paren >= 0 && (flat.indexOf('=') < 0 || paren < flat.indexOf('='))) {
    const head = flat.slice(0, paren).match(IDENT);          // a prototype, or a macro call such as custom_param(...)
    if (head) names.push(head[head.length - 1]);
    // A defining macro (static RADIX_TREE(pci_segments); DEFINE_RSPINLOCK(_pcidevs_lock)) names its first argument.
    const arg = /^\s*([A-Za-z_]\w*)\s*[,)]/.exec(flat.slice(paren + 1));
    if (head && /^[A-Z][A-Z0-9_]*$/.test(head[head.length - 1]) && arg) names.push(arg[1]);
    return names;
  }
  for (const piece of flat.split(',')) {
    const decl = piece.split('=')[0].replace(/\[[^\]]*\]/g, '');
    const ids = (decl.match(IDENT) ?? []).filter((id) => !KEYWORDS.has(id));
    if (ids.length > 1 || (ids.length === 1 && !tag)) names.push(ids[ids.length - 1]);
  }
  return names;
}

/** The file's top-level items, in order. */
export function topLevelItems(text: string): CItem[] {
  const m = maskC(text);
  const items: CItem[] = [];
  let i = 0;
  const refsOf = (a: number, b: number): Set<string> => new Set(m.slice(a, b).match(IDENT) ?? []);
  while (i < m.length) {
    if (/\s/.test(m[i])) { i++; continue; }
    const start = i;
    if (m[i] === '#') {
      while (i < m.length && !(m[i] === '\n' && m[i - 1] !== '\\')) i++;
      items.push({ start, end: i, kind: 'pp', names: [], refs: refsOf(start, i) });
      continue;
    }
    let depth = 0, kind: CItem['kind'] = 'decl', bodyDepth = -1;
    for (; i < m.length; i++) {
      const c = m[i];
      if (c === '(' || c === '[') depth++;
      else if (c === ')' || c === ']') depth--;
      else if (c === '{') {
        if (depth === 0 && bodyDepth < 0 && /\)\s*$/.test(m.slice(start, i))) { kind = 'function'; bodyDepth = 0; }
        depth++;
      } else if (c === '}') {
        depth--;
        if (kind === 'function' && depth === 0) { i++; break; }
      } else if (c === ';' && depth === 0) { i++; break; }
    }
    const end = i;
    const head = m.slice(start, end);
    let names: string[];
    if (kind === 'function') {
      const ids = head.slice(0, head.indexOf('(')).match(IDENT) ?? [];
      names = ids.length ? [ids[ids.length - 1]] : [];
    } else names = declNames(head);
    const refs = refsOf(start, end);
    for (const n of names) refs.delete(n);
    items.push({ start, end, kind, names, refs });
  }
  return items;
}

export interface Extracted {
  /** The file with every unreached item blanked (newlines kept), then `append`. */
  text: string;
  /** The functions kept, in file order. */
  functions: string[];
  /** Roots the file does not define (the caller's typo, or a function a patch removed). */
  missing: string[];
}

/**
 * Keep what `roots` reach through the file's own items; `omit` names items the lab supplies instead (they are
 * blanked even when reached). Type definitions (struct/union/enum tags) are items like any other: kept when named.
 */
export function extractClosure(text: string, roots: readonly string[], omit: readonly string[] = [], append = ''): Extracted {
  const items = topLevelItems(text);
  const byName = new Map<string, CItem[]>();
  for (const it of items) for (const n of it.names) byName.set(n, [...(byName.get(n) ?? []), it]);
  const skip = new Set(omit);
  const keep = new Set<CItem>(items.filter((it) => it.kind === 'pp'));
  const seen = new Set<string>();
  const missing = roots.filter((r) => !byName.has(r));
  const todo = [...roots, ...(maskC(append).match(IDENT) ?? [])];
  while (todo.length) {
    const n = todo.pop()!;
    if (seen.has(n) || skip.has(n)) continue;
    seen.add(n);
    for (const it of byName.get(n) ?? []) {
      if (keep.has(it)) continue;
      keep.add(it);
      for (const r of it.refs) if (!seen.has(r)) todo.push(r);
    }
  }
  const chars = text.split('');
  for (const it of items) {
    if (keep.has(it) && !it.names.some((n) => skip.has(n))) continue;
    for (let k = it.start; k < it.end; k++) if (chars[k] !== '\n') chars[k] = ' ';
  }
  const functions = items.filter((it) => it.kind === 'function' && keep.has(it)).flatMap((it) => it.names);
  return { text: chars.join('').replace(/^[ \t]+$/gm, '') + (append ? `\n${append}` : ''), functions, missing };
}
