/**
 * Progress while checks run. On a terminal: finished checks scroll above a
 * single live status line. Elsewhere (CI, pipes): plain lines, one per check.
 */
import type { ChalkInstance } from 'chalk';
import type { RunEvent } from '../engine/run.js';
import type { CheckRecord } from '../evidence/types.js';
import { formatCheckLine } from '../report/text.js';
import type { OutputStream } from './io.js';

export interface ProgressOptions {
  live: boolean;
  chalk: ChalkInstance;
  idWidth: number;
  /** Scrubs known secrets from anything printed. */
  redact: (text: string) => string;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createProgressDisplay(stream: OutputStream, options: ProgressOptions) {
  const running = new Set<string>();
  let total = 0;
  let done = 0;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const clearLine = () => {
    if (options.live) stream.write('\r\x1b[2K');
  };
  const drawStatus = () => {
    if (!options.live || running.size === 0) return;
    frame = (frame + 1) % SPINNER.length;
    const names = [...running].slice(0, 3).join(', ') + (running.size > 3 ? ` +${running.size - 3}` : '');
    clearLine();
    stream.write(options.chalk.cyan(`${SPINNER[frame]} ${done}/${total} done — running ${names}`));
  };
  if (options.live) timer = setInterval(drawStatus, 100);

  return {
    onEvent(event: RunEvent) {
      if (event.type === 'planned') total = event.ids.length;
      if (event.type === 'started') running.add(event.id);
      if (event.type === 'finished') {
        running.delete(event.result.entry.id);
        done += 1;
        clearLine();
        const record: CheckRecord = {
          id: event.result.entry.id,
          check: event.result.entry.check.id,
          title: event.result.entry.check.title,
          source: event.result.entry.check.source,
          status: event.result.status,
          summary: options.redact(event.result.outcome.summary),
          remediation: event.result.entry.check.remediation,
          durationMs: event.result.durationMs,
          observations: [],
          ...(event.result.waiver ? { waiver: event.result.waiver } : {}),
        };
        stream.write(`${formatCheckLine(record, options.chalk, options.idWidth)}\n`);
      }
      drawStatus();
    },
    stop() {
      if (timer) clearInterval(timer);
      clearLine();
    },
  };
}
