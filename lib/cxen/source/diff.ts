// A unified diff read far enough to name what it touches: each file's old and new path (-p1) and its hunks'
// headers, so an error can say "hunk #2 (@@ -179,7 +179,9 @@) of xen/drivers/vpci/header.c".

export interface DiffHunk { header: string; oldStart: number }
export interface DiffFile { oldPath?: string; newPath?: string; hunks: DiffHunk[] }

/** Strip `n` leading components, as patch -p<n> does; undefined for /dev/null. */
function stripPath(raw: string, n: number): string | undefined {
  const p = raw.split('\t')[0].trim().replace(/^"(.*)"$/, '$1');
  if (p === '/dev/null') return undefined;
  return p.split('/').slice(n).join('/');
}

/** The files and hunks of a unified diff (git's or diff -u's); [] when the text holds no diff at all. */
export function parseDiff(text: string, strip = 1): DiffFile[] {
  const files: DiffFile[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      files.push({ oldPath: stripPath(l.slice(4), strip), newPath: stripPath(lines[i + 1].slice(4), strip), hunks: [] });
      i++;
      continue;
    }
    const h = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@.*$/.exec(l);
    if (h && files.length) files[files.length - 1].hunks.push({ header: l.trim(), oldStart: Number(h[1]) });
  }
  return files;
}

/** The path a file of the diff has in the tree (the old one; the new one for a created file). */
export const pathOf = (f: DiffFile): string => (f.oldPath ?? f.newPath)!;

/** "@@ -179,7 +179,9 @@" without the function context, which can be long. */
export const shortHeader = (h: DiffHunk): string => /^@@ [^@]* @@/.exec(h.header)?.[0] ?? h.header;
