/**
 * Sub-commands are loaded only when they run (start-up time: issue 16). The
 * top-level help shows each one's summary without loading it, so the summary
 * written in main.ts must be the description the module itself gives.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { buildProgram, requestedSubcommand, SUBCOMMANDS } from '../../src/cli/main.js';

const silentIo: CliIo = {
  stdout: new Writable({ write: (_chunk, _encoding, done) => done() }),
  stderr: new Writable({ write: (_chunk, _encoding, done) => done() }),
  env: {},
  cwd: process.cwd(),
};

describe('lazy sub-commands', () => {
  it.each([
    [['node', 'secgate', '--version'], undefined],
    [['node', 'secgate'], undefined],
    [['node', 'secgate', 'verify', '-c', 'checklist.yaml'], 'verify'],
    [['node', 'secgate', '--help', 'evidence', 'render'], 'evidence'],
    [['node', 'secgate', 'help', 'keygen'], 'keygen'],
    [['node', 'secgate', 'help'], undefined],
  ])('%j asks for %s', (argv, expected) => {
    expect(requestedSubcommand(argv)).toBe(expected);
  });

  it('the summary of every sub-command is the description its module registers', async () => {
    const full = await buildProgram(silentIo, () => {}, [], 'all');
    const registered = Object.fromEntries(full.commands.map((command) => [command.name(), command.description()]));
    expect(Object.fromEntries(SUBCOMMANDS.map((subcommand) => [subcommand.name, subcommand.summary]))).toEqual(
      registered,
    );
  });

  it('registers only the requested sub-command in full; the others are a name and a summary', async () => {
    const program = await buildProgram(silentIo, () => {}, ['node', 'secgate', 'keygen', '--out', 'x']);
    const options = Object.fromEntries(program.commands.map((command) => [command.name(), command.options.length]));
    expect(options.keygen).toBeGreaterThan(0);
    expect(options.verify).toBe(0);
    expect(options.service).toBe(0);
  });
});
