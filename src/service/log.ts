/**
 * Structured JSON logging, one line per event. Fields are passed explicitly;
 * nothing logs whole requests, headers or bodies, so Authorization headers,
 * cookies, passwords and tokens have no way in.
 */
export type LogValue = string | number | boolean | null;
export type LogFields = Record<string, LogValue>;

/** Where lines go: a stream (process.stdout) or a function (tests capture lines). */
export type LogDestination = { write(line: string): unknown } | ((line: string) => void);

export interface ServiceLogger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export function createLogger(destination: LogDestination = process.stdout): ServiceLogger {
  const write = (level: 'info' | 'warn' | 'error', event: string, fields: LogFields = {}) => {
    const line = `${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`;
    if (typeof destination === 'function') destination(line);
    else destination.write(line);
  };
  return {
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
  };
}

/** The path without its query string: query strings can carry tokens and are never logged. */
export function pathOnly(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
