/**
 * command.run's and command.runbook's judges, on sample observations: no process is started. Each
 * row is what a probe could have seen; the verdict and the phrase that names it come from the judge.
 */
import { describe, expect, it } from 'vitest';
import type { CommandEnding } from '../../../checks/command/command-spec.js';
import { type CommandRunSeen, judgeCommandRun } from '../../../checks/command/run.js';
import { judgeRunbook, type RunbookSeen } from '../../../checks/command/runbook.js';
import { judgeTable } from '../../harness/judge-table.js';

const exited0: CommandEnding = {
  exitCode: 0,
  signal: undefined,
  timedOut: false,
  aborted: false,
  spawnError: undefined,
  durationMs: 812.4,
  outputBytes: 17,
  outputSha256: 'sha256 of the whole output',
  outputTail: '0 problems',
};

describe('judgeCommandRun', () => {
  const runParams = { name: 'lint', timeout_ms: 300, cwd: '.' };
  const ran = (ending: Partial<CommandEnding>): CommandRunSeen => ({
    display: 'npx biome check .',
    envNames: ['HOME', 'PATH'],
    ending: { ...exited0, ...ending },
  });
  judgeTable<CommandRunSeen>('judgeCommandRun', (seen) => judgeCommandRun(seen, runParams), [
    { name: 'exit 0', seen: ran({}), status: 'pass', expect: /^lint exited 0 in 812 ms$/ },
    { name: 'exit 1', seen: ran({ exitCode: 1 }), status: 'fail', expect: /^lint exited with code 1$/ },
    {
      name: 'killed by a signal',
      seen: ran({ exitCode: undefined, signal: 'SIGKILL' }),
      status: 'fail',
      expect: /^lint was killed by SIGKILL$/,
    },
    {
      name: 'no exit code and no signal is no exit 0',
      seen: ran({ exitCode: undefined }),
      status: 'fail',
      expect: /^lint exited with code undefined$/,
    },
    {
      name: 'timed out',
      seen: ran({ exitCode: undefined, signal: 'SIGTERM', timedOut: true }),
      status: 'error',
      expect: /^lint: timed out after 300 ms \(process group stopped\)$/,
    },
    {
      name: 'exit 0 after the timeout is still a timeout',
      seen: ran({ timedOut: true }),
      status: 'error',
      expect: /timed out after 300 ms/,
    },
    {
      name: 'cancelled by the gate',
      seen: ran({ exitCode: undefined, aborted: true }),
      status: 'error',
      expect: /^lint: cancelled after 812 ms$/,
    },
    {
      name: 'could not start',
      seen: ran({ exitCode: undefined, spawnError: 'spawn npx ENOENT' }),
      status: 'error',
      expect: /^lint: could not start npx biome check \.: spawn npx ENOENT$/,
    },
    {
      name: 'a command that could not be built',
      seen: { problem: 'cwd ../.. is outside the repository' },
      status: 'error',
      expect: /^lint: cwd \.\.\/\.\. is outside the repository$/,
    },
  ]);

  it('shows the environment by its names and the output by its hash and last lines', () => {
    const [observation] = judgeCommandRun(ran({}), runParams).observations;
    expect(observation?.actual).toMatchObject({ env_names: ['HOME', 'PATH'], output_tail: '0 problems', cwd: '.' });
  });
});

describe('judgeRunbook', () => {
  const runbookParams = {
    name: 'start service',
    cwd: '.',
    expect_status: 200,
    startup_timeout_ms: 8_000,
    poll_interval_ms: 250,
    grace_ms: 500,
  };
  const healthy: Exclude<RunbookSeen, { problem: string }> = {
    display: 'node server.js',
    envNames: ['PATH'],
    pid: 4242,
    healthUrl: 'http://127.0.0.1:8080/health',
    health: { attempts: 3, last: 'HTTP 200', healthyAfterMs: 640.2, exitedEarly: false },
    stop: { stoppedBy: 'sigterm', survivors: false, durationMs: 40 },
    ending: { ...exited0, exitCode: undefined, signal: 'SIGTERM' },
    cancelled: false,
  };
  judgeTable<RunbookSeen>('judgeRunbook', (seen) => judgeRunbook(seen, runbookParams), [
    {
      name: 'healthy, stopped by SIGTERM',
      seen: healthy,
      status: 'pass',
      expect: /^start service healthy after 640 ms and stopped cleanly on SIGTERM$/,
    },
    {
      name: 'never healthy',
      seen: { ...healthy, health: { attempts: 30, last: 'HTTP 500', healthyAfterMs: undefined, exitedEarly: false } },
      status: 'fail',
      expect: /^http:\/\/127\.0\.0\.1:8080\/health did not answer 200 within 8000 ms \(last: HTTP 500\)$/,
    },
    {
      name: 'exited before it was healthy',
      seen: {
        ...healthy,
        health: { attempts: 1, last: 'ECONNREFUSED', healthyAfterMs: undefined, exitedEarly: true },
        stop: { stoppedBy: 'exited', survivors: false, durationMs: 0 },
        ending: { ...exited0, exitCode: 2 },
      },
      status: 'fail',
      expect: /^start service exited with code 2 before http:\/\/127\.0\.0\.1:8080\/health answered 200$/,
    },
    {
      name: 'killed by a signal before it was healthy',
      seen: {
        ...healthy,
        health: { attempts: 1, last: 'ECONNREFUSED', healthyAfterMs: undefined, exitedEarly: true },
        stop: { stoppedBy: 'exited', survivors: false, durationMs: 0 },
        ending: { ...exited0, exitCode: undefined, signal: 'SIGSEGV' },
      },
      status: 'fail',
      expect: /^start service was killed by SIGSEGV before http:\/\/127\.0\.0\.1:8080\/health answered 200$/,
    },
    {
      // Something else answered health_url (a service left from an earlier run) while the start died.
      name: 'healthy, but the command had exited by itself with code 3',
      seen: {
        ...healthy,
        health: { ...healthy.health, exitedEarly: true },
        stop: { stoppedBy: 'exited', survivors: false, durationMs: 0 },
        ending: { ...exited0, exitCode: 3, outputTail: 'starting\nError: listen EADDRINUSE 127.0.0.1:8080\n' },
      },
      status: 'fail',
      expect:
        /^start service exited with code 3 before the gate stopped it; what answered http:\/\/127\.0\.0\.1:8080\/health 200 was not its service \(last output: Error: listen EADDRINUSE 127\.0\.0\.1:8080\)$/,
    },
    {
      name: 'healthy, but the command was killed by a signal the gate did not send',
      seen: {
        ...healthy,
        health: { ...healthy.health, exitedEarly: true },
        stop: { stoppedBy: 'exited', survivors: false, durationMs: 0 },
        ending: { ...exited0, exitCode: undefined, signal: 'SIGKILL', outputTail: '' },
      },
      status: 'fail',
      expect:
        /^start service was killed by SIGKILL before the gate stopped it; what answered .* 200 was not its service \(no output\)$/,
    },
    {
      // A start command that daemonizes and returns: the gate has nothing left to stop.
      name: 'healthy, but the command had exited 0 by itself',
      seen: {
        ...healthy,
        health: { ...healthy.health, exitedEarly: true },
        stop: { stoppedBy: 'exited', survivors: false, durationMs: 0 },
        ending: { ...exited0, exitCode: 0 },
      },
      status: 'fail',
      expect: /^start service exited with code 0 before the gate stopped it; what answered .* 200 was not its service/,
    },
    {
      name: 'SIGKILL was needed',
      seen: { ...healthy, stop: { stoppedBy: 'sigkill', survivors: false, durationMs: 510 } },
      status: 'fail',
      expect: /^start service did not stop on SIGTERM within 500 ms; SIGKILL was needed$/,
    },
    {
      name: 'processes survived SIGKILL',
      seen: { ...healthy, stop: { stoppedBy: 'sigkill', survivors: true, durationMs: 510 } },
      status: 'fail',
      expect: /^processes of start service survived SIGKILL$/,
    },
    {
      name: 'could not start',
      seen: {
        ...healthy,
        pid: undefined,
        health: { attempts: 0, last: 'no answer yet', healthyAfterMs: undefined, exitedEarly: true },
        ending: { ...exited0, exitCode: undefined, spawnError: 'spawn node ENOENT' },
      },
      status: 'error',
      expect: /^start service: could not start node server\.js: spawn node ENOENT$/,
    },
    {
      name: 'the gate was cancelled',
      seen: { ...healthy, health: { ...healthy.health, healthyAfterMs: undefined }, cancelled: true },
      status: 'error',
      expect: /^start service: cancelled$/,
    },
    {
      name: 'something answered health_url before the command started',
      seen: {
        problem:
          "something already answers http://127.0.0.1:8080/health (HTTP 200) before the runbook's command started: stop it or choose other ports",
      },
      status: 'error',
      expect: /^start service: something already answers http:\/\/127\.0\.0\.1:8080\/health \(HTTP 200\) before/,
    },
    {
      name: 'health_url that is no URL',
      seen: { problem: 'health_url http://[ is not a URL' },
      status: 'error',
      expect: /^start service: health_url http:\/\/\[ is not a URL$/,
    },
  ]);
});
