/**
 * docs/controls.md is the catalogue every built-in check cites: each check
 * names one control that exists and lists it, links to that control's
 * anchor (`docs`), and each control lists only checks that exist, so the
 * catalogue and the code cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.js';

interface CatalogueControl {
  id: string;
  title: string;
  checks: string[];
}

function parseCatalogue(markdown: string): CatalogueControl[] {
  return markdown
    .split(/\n(?=<a id=")/)
    .slice(1)
    .map((section) => {
      const anchor = /^<a id="([A-Z][0-9]+)"><\/a>\n### ([A-Z][0-9]+) · (.+)$/m.exec(section);
      const checks = /^Checks: (.+?)\. Covers:/m.exec(section);
      if (!anchor || !checks) throw new Error(`malformed catalogue section:\n${section.slice(0, 200)}`);
      expect(anchor[2], 'the anchor and the heading name the same id').toBe(anchor[1]);
      return {
        id: String(anchor[1]),
        title: String(anchor[3]),
        checks: [...String(checks[1]).matchAll(/`([a-z0-9.-]+)`/g)].map((match) => String(match[1])),
      };
    });
}

const markdown = readFileSync('docs/controls.md', 'utf8');
const catalogue = parseCatalogue(markdown);
/** Every anchor a link into the catalogue can land on: the explicit `<a id>`s. */
const anchors = [...markdown.matchAll(/<a id="([^"]+)"><\/a>/g)].map((match) => String(match[1]));

describe('docs/controls.md', () => {
  it('has unique ids, each with at least one check', () => {
    expect(new Set(catalogue.map((control) => control.id)).size).toBe(catalogue.length);
    for (const control of catalogue) expect(control.checks.length, control.id).toBeGreaterThan(0);
  });

  it.each(allChecks.map((check) => [check.id, check.source] as const))(
    '%s cites a control that lists it',
    (id, source) => {
      const cited = /^control ([A-Z][0-9]+) \(docs\/controls\.md#\1\): (.+)$/.exec(source);
      expect(cited, source).not.toBeNull();
      const control = catalogue.find((candidate) => candidate.id === cited?.[1]);
      expect(control?.checks).toContain(id);
      expect(cited?.[2]).toBe(control?.title.replaceAll("'", '’'));
    },
  );

  it.each(allChecks.map((check) => [check.id, check] as const))(
    '%s links to its control in the catalogue (secgate explain prints the link)',
    (_id, check) => {
      const [file, anchor] = (check.docs ?? '').split('#');
      expect(file, `${check.id} docs: ${check.docs}`).toBe('docs/controls.md');
      expect(anchors, `${check.id} docs: ${check.docs}`).toContain(anchor);
      // The link and the cited source name the same control.
      expect(check.source).toMatch(new RegExp(`^control ${anchor} `));
    },
  );

  it('lists only checks that exist', () => {
    const known = new Set(allChecks.map((check) => check.id));
    expect(catalogue.flatMap((control) => control.checks).filter((id) => !known.has(id))).toEqual([]);
  });
});
