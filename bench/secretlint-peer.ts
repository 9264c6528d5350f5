/**
 * secretlint as the benches run it: its recommended preset through the Node
 * API, findings as JSON (masked), rule ids out. Loaded lazily by its users, so
 * that a bench's child processes do not carry secretlint's modules.
 */
import { createEngine } from '@secretlint/node';

interface SecretlintJsonResult {
  messages: { ruleId: string }[];
}

export interface SecretlintPeer {
  /** The rule ids secretlint reports for one file's content. */
  ruleIds(content: string, filePath: string): Promise<string[]>;
}

export async function createSecretlintPeer(cwd: string): Promise<SecretlintPeer> {
  const engine = await createEngine({
    cwd,
    configFileJSON: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] },
    formatter: 'json',
    color: false,
    maskSecrets: true,
  });
  return {
    async ruleIds(content, filePath) {
      const { output } = await engine.executeOnContent({ content, filePath });
      const results = JSON.parse(output) as SecretlintJsonResult[];
      return results.flatMap((result) => result.messages.map((message) => message.ruleId));
    },
  };
}
