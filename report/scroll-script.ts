// The one script a report carries: open every timeline scrolled to its crash (a trace is wider than the page and
// the crash is at its right end), also when a collapsed failure is opened later. The page's Content-Security-Policy
// admits exactly this script by its hash, and nothing else.

import { createHash } from 'node:crypto';

export const SCROLL_SCRIPT = `(function () {
  function show(root) {
    root.querySelectorAll('.timeline .scroll[data-focus-x]').forEach(function (el) {
      if (el.dataset.done || el.clientWidth === 0) return;
      el.scrollLeft = Math.max(0, Number(el.dataset.focusX) - el.clientWidth / 2);
      el.dataset.done = '1';
    });
  }
  show(document);
  document.querySelectorAll('details').forEach(function (d) { d.addEventListener('toggle', function () { if (d.open) show(d); }); });
})();`;

/** The CSP directive that admits SCROLL_SCRIPT and no other script. */
export function scriptCsp(): string {
  return `script-src 'sha256-${createHash('sha256').update(SCROLL_SCRIPT).digest('base64')}'`;
}
