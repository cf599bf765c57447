// Options every command takes because they choose the machine Xen runs on, not what the command does with it:
// --xen-build debug|release and --iommu quarantine|no-quarantine. They travel as environment variables
// (VPCI_XEN_BUILD, VPCI_IOMMU) so that worker threads and --jobs child processes boot the same machine
// (lib/lab/boot.ts machineDefaults reads them).

import { UsageError } from './args.js';

const MACHINE_OPTIONS: Record<string, { env: string; values: readonly string[] }> = {
  '--xen-build': { env: 'VPCI_XEN_BUILD', values: ['debug', 'release'] },
  '--iommu': { env: 'VPCI_IOMMU', values: ['quarantine', 'no-quarantine'] },
};

export const MACHINE_OPTIONS_HELP = [
  '  --xen-build debug|release      Xen built with CONFIG_DEBUG (ASSERT panics; default) or without (ASSERT not evaluated)',
  '  --iommu quarantine|no-quarantine   deassigned devices go to dom_io (Xen\'s default) or straight back to Dom0',
];

/** Take the machine options out of argv (anywhere after the command), set their variables, return the rest. */
export function takeMachineOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const o = MACHINE_OPTIONS[flag];
    if (!o) { rest.push(argv[i]); continue; }
    const v = inline ?? argv[++i];
    if (v === undefined || !o.values.includes(v)) throw new UsageError(`${flag} wants one of ${o.values.join(', ')}${v === undefined ? '' : `, got '${v}'`}`);
    env[o.env] = v;
  }
  return rest;
}
