import { describe, expect, it } from 'vitest';
import { registerEvidenceCommand } from '../../src/cli/evidence.js';
import { registerEvidenceRenderCommand } from '../../src/cli/evidence-render.js';
import { runProgram } from './cli-io.js';

describe('secgate evidence render', () => {
  it('joins the existing evidence command group next to verify', async () => {
    const { stdout } = await runProgram(process.cwd(), ['evidence', '--help'], (program, io, setExitCode) => {
      registerEvidenceCommand(program, io, setExitCode);
      registerEvidenceRenderCommand(program, { io, setExitCode });
    });
    expect(stdout).toMatch(/verify \[options\] <envelope>\s+Verify the signature/);
    expect(stdout).toMatch(
      /render \[options\] <envelope>\s+Render an evidence envelope as one self-contained\s+HTML page/,
    );
  });

  it('documents its options', async () => {
    const { stdout } = await runProgram(process.cwd(), ['evidence', 'render', '--help'], (program, io, setExitCode) =>
      registerEvidenceRenderCommand(program, { io, setExitCode }),
    );
    expect(stdout).toContain('Usage: secgate evidence render [options] <envelope>');
    expect(stdout).toMatch(/--key <pem>\s+public key of the signer/);
    expect(stdout).toMatch(/-o, --out <file>\s+where to write the page/);
  });
});
