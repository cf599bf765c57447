// The machine's apt sources turned into deb-src entries, as pure functions: read deb822 (.sources) and one-line
// (.list) text, keep the binary entries that are enabled, and write the same URIs, suites and components as a
// one-line deb-src list. Nothing here names a host: every URI comes from the machine's own configuration.

export interface AptSource {
  uris: string[];
  suites: string[];
  components: string[];
  options: Record<string, string>;   // one-line [opt=value] options, or deb822 fields lower-cased (signed-by, trusted)
}

/** Options that still mean something for a deb-src entry; architecture filters do not. */
const KEPT = ['signed-by', 'trusted', 'check-valid-until', 'allow-insecure', 'allow-weak', 'allow-downgrade-to-insecure'];

/** deb822 stanzas: comments dropped, continuation lines joined with "\n" (inline Signed-By keys keep their lines). */
export function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    const fields: Record<string, string> = {};
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      if (/^[ \t]/.test(line) && last) { fields[last] += `\n${line.trim() === '.' ? '' : line.trim()}`; continue; }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) { last = m[1].toLowerCase(); fields[last] = m[2].trim(); }
    }
    const words = (k: string): string[] => (fields[k] ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb') || /^(no|false|0)$/i.test(fields.enabled ?? '')) continue;
    const options: Record<string, string> = {};
    for (const k of KEPT) if (fields[k] !== undefined) options[k] = fields[k].replace(/^\n/, '');
    if (words('uris').length && words('suites').length) out.push({ uris: words('uris'), suites: words('suites'), components: words('components'), options });
  }
  return out;
}

/** One-line entries: `deb [opt=value ...] URI SUITE [COMPONENT...]`; deb-src lines and comments are skipped. */
export function parseOneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const options: Record<string, string> = {};
    for (const kv of (m[1] ?? '').trim().split(/\s+/).filter(Boolean)) {
      const [k, ...v] = kv.split('=');
      if (KEPT.includes(k.toLowerCase())) options[k.toLowerCase()] = v.join('=');
    }
    out.push({ uris: [m[2]], suites: [m[3]], components: m[4].split(/\s+/).filter(Boolean), options });
  }
  return out;
}

export interface SourceList { text: string; keys: { file: string; content: string }[] }

/**
 * The deb-src list for apt's Dir::Etc::SourceList, one line per URI and suite. An inline Signed-By key (deb822
 * allows the key itself in the field) becomes a file under keyDir that the line points at.
 */
export function debSrcList(sources: AptSource[], keyDir: string): SourceList {
  const lines: string[] = [], keys: SourceList['keys'] = [];
  const seen = new Set<string>();
  for (const s of sources) {
    const opts = Object.entries(s.options).map(([k, v]) => {
      if (k === 'signed-by' && v.includes('BEGIN PGP')) {
        const file = `${keyDir}/key-${keys.length}.asc`;
        keys.push({ file, content: `${v.trim()}\n` });
        return `${k}=${file}`;
      }
      return `${k}=${v.split(/\s+/).join(',')}`;
    });
    for (const uri of s.uris) {
      for (const suite of s.suites) {
        const line = `deb-src ${opts.length ? `[${opts.join(' ')}] ` : ''}${uri} ${suite}${s.components.length ? ` ${s.components.join(' ')}` : ''}`;
        if (!seen.has(line)) { seen.add(line); lines.push(line); }
      }
    }
  }
  return { text: lines.length ? `${lines.join('\n')}\n` : '', keys };
}

/** The Xen version a Debian source package carries: "4.17.5+72-g01140da4e8-1" -> upstream part and git commit. */
export function debianUpstream(version: string): { upstream: string; commit?: string } {
  const upstream = version.replace(/^\d+:/, '').replace(/-[^-]+$/, '');
  const commit = /-g([0-9a-f]{7,40})$/.exec(upstream)?.[1];
  return commit ? { upstream, commit } : { upstream };
}

/**
 * The entries of the machine's own suite (its release codename, e.g. bookworm), without -updates, -security or
 * backports: what the release ships, the same on every machine of that release. All entries when none match
 * (a configuration that names suites by class, such as "stable").
 */
export function ownSuite(sources: AptSource[], codename: string | undefined): AptSource[] {
  if (!codename) return sources;
  const mine = sources.map((s) => ({ ...s, suites: s.suites.filter((x) => x === codename) })).filter((s) => s.suites.length);
  return mine.length ? mine : sources;
}

/** VERSION_CODENAME from os-release text. */
export const codenameOf = (osRelease: string): string | undefined => /^VERSION_CODENAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] || undefined;
