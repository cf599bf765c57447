// B.6: with per-device locks only, modify_bars (called from cmd_write with the device's lock held) takes every
// other device's lock to read its BARs; two vCPUs toggling decoding of two devices take them in opposite orders.

import { defineScenario } from '../lib/scenario/scenario.js';

const toggle = (i: number) => (x: Parameters<Parameters<typeof defineScenario>[0]['actors'][string]>[0]): void => {
  const { PCI_COMMAND, PCI_COMMAND_MEMORY } = x.regs;
  const cmd = x.read(x.dev(i), PCI_COMMAND, 2);
  x.write(x.dev(i), PCI_COMMAND, 2, cmd ^ PCI_COMMAND_MEMORY);
  x.resume();
};

export default defineScenario({
  name: 'abba',
  description: 'two devices\' locks taken in opposite order by modify_bars walks',
  source: 'B.6 (YgEqXhxOqKq92+Xn@Air-de-Roger)',
  machine: { vcpus: [2], devices: 2 },
  actors: { d0v0: toggle(0), d0v1: toggle(1) },
  expect: {
    'cancel-all': { expected: ['deadlock'], acceptable: ['ok'] },   // B.6: the ABBA of the v6 discussion
    '*': { expected: ['ok'] },   // no device lock taken inside another's (L21 takes none; S2, S3, S6 a lock above both)
  },
});
