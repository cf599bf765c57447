// The option tables: one declaration parses, validates and documents every flag; shards come from --shard or the
// job engine's environment.

import assert from 'node:assert/strict';
import { parseCommand, helpText, int, string, strings, flag, choice, outFile } from '../../cli/options.js';
import { UsageError } from '../../cli/args.js';
import { resolveShard, owns } from '../../cli/shard.js';
import { exitCode } from '../../cli/exit.js';

const SPEC = {
  usage: 'demo [options]', description: 'a demo command',
  options: {
    runs: int('runs', { default: 5, min: 1, max: 10 }),
    seed: int('seed', { default: 1, min: 0, max: 100 }),
    offset: int('may be negative', { min: -50, max: 50 }),
    name: string('a name'),
    mode: choice('mode', ['a', 'b'] as const, 'a'),
    fast: flag('go fast'),
    json: outFile('json out'),
  },
};

const usage = (argv: string[], re: RegExp): void => assert.throws(() => parseCommand(SPEC, argv), (e: unknown) => e instanceof UsageError && re.test(e.message));

describe('option tables', () => {
  it('parse typed values and defaults from one declaration', () => {
    const r = parseCommand(SPEC, ['--runs', '7', '--mode=b', '--fast', '--offset', '-3'])!;
    assert.deepEqual({ ...r.values }, { runs: 7, seed: 1, offset: -3, name: undefined, mode: 'b', fast: true, json: undefined });
  });
  it('say what range a negative number misses, instead of "argument is ambiguous"', () => {
    usage(['--seed', '-1'], /^--seed must be between 0 and 100, got -1$/);
    usage(['--runs', '-5'], /--runs must be between 1 and 10, got -5/);
    usage(['--runs', '2.5'], /--runs wants a whole number, got '2.5'/);
  });
  it('reject unknown flags, bad choices and missing values', () => {
    usage(['--nope'], /Unknown option '--nope'/);
    usage(['--mode', 'c'], /--mode must be a or b, got 'c'/);
    usage(['--name'], /--name/);
  });
  it('check an output path before any work', () => {
    usage(['--json', '/nonexistent/dir/x.json'], /--json .*directory '\/nonexistent\/dir' does not exist/);
    usage(['--json', '/tmp'], /is a directory/);
  });
  it('read a repeatable option in the order given, [] when absent', () => {
    const spec = { usage: 'demo', description: 'd', options: { patch: strings('a diff', { arg: 'FILE' }) } };
    assert.deepEqual(parseCommand(spec, ['--patch', 'b.patch', '--patch=a.patch'])!.values.patch, ['b.patch', 'a.patch']);
    assert.deepEqual(parseCommand(spec, [])!.values.patch, []);
    assert.throws(() => parseCommand(spec, ['--patch=']), /--patch wants a value/);
    assert.match(helpText(spec), /--patch FILE\s+a diff \(repeatable\)/);
  });
  it('generate --help listing every option with its default', () => {
    const h = helpText(SPEC);
    for (const name of Object.keys(SPEC.options)) assert.match(h, new RegExp(`--${name}\\b`));
    assert.match(h, /--runs N\s+runs \(default 5\)/);
    assert.match(h, /-h, --help/);
  });
});

describe('shards', () => {
  const none = {};
  it('--shard i/n is 1-based and wins over the environment', () => {
    assert.deepEqual(resolveShard('2/4', undefined, { CI_NODE_INDEX: '1', CI_NODE_TOTAL: '3' }), { index: 1, count: 4, source: '--shard' });
    for (const bad of ['0/4', '5/4', '1/0', 'x', '1-4']) assert.throws(() => resolveShard(bad, undefined, none), UsageError);
  });
  it('read Kubernetes, GitLab and Slurm indices', () => {
    assert.equal(resolveShard(undefined, 4, { JOB_COMPLETION_INDEX: '3' })?.index, 3);
    assert.equal(resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '0', VPCI_SHARD_COUNT: '2' })?.count, 2);
    assert.throws(() => resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '0' }), /--shard-count/);
    assert.deepEqual(resolveShard(undefined, undefined, { CI_NODE_INDEX: '3', CI_NODE_TOTAL: '3' }), { index: 2, count: 3, source: 'CI_NODE_INDEX' });
    assert.deepEqual(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '4', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 1, count: 4, source: 'SLURM_ARRAY_TASK_ID' });
    assert.throws(() => resolveShard(undefined, undefined, { CI_NODE_INDEX: '4', CI_NODE_TOTAL: '3' }), UsageError);
    assert.equal(resolveShard(undefined, undefined, none), undefined);
  });
  it('split work items disjointly and completely', () => {
    const n = 3, items = 20;
    const seen = new Array<number>(items).fill(0);
    for (let i = 0; i < n; i++) for (let k = 0; k < items; k++) if (owns({ index: i, count: n, source: 't' }, k)) seen[k]++;
    assert.deepEqual(seen, new Array<number>(items).fill(1));
  });
  it('exit codes: surprise or failed write 1, interrupted 130, else 0', () => {
    assert.equal(exitCode({}), 0);
    assert.equal(exitCode({ forbidden: 2 }), 1);
    assert.equal(exitCode({ writeFailures: 1 }), 1);
    assert.equal(exitCode({ forbidden: 1, interrupted: true }), 130);
  });
});
