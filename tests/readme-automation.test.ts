/**
 * The README's automation section, run as a reader gets to it: the tour (its bad-input step
 * aside), then the section's ```sh blocks — all in ONE bash session, so `$TOKEN`, `$RULE` and
 * `$SUGGESTION` carry from block to block — with curl against a real socket. The answers the
 * section shows must be the ones the server gives.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/platform.ts';
import { jsonBlocks, section, shBlocks, shellSession, tourAdmin } from './support/readme.ts';

const [start, ...tour] = shBlocks(section('## A five-minute tour', '## The metadata API'));
const admin = tourAdmin(start);
const automation = section('## Automation: rules that follow up for you', '## When things go wrong');
const blocks = shBlocks(automation);
const answers = jsonBlocks(automation).map((text) => JSON.parse(text));

/** The JSON documents a block printed (curl prints one per call, each followed by a newline). */
const documents = (output: string) =>
  output
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describeEachDatabase(
  'README automation section',
  (get) => {
    let base = '';
    beforeAll(async () => {
      const address = await get().app.listen({ port: 0, host: '127.0.0.1' });
      base = address.replace('127.0.0.1', 'localhost');
    });

    it('suggests a follow-up once, runs it on approval, warns when a drop breaks the rule', async () => {
      expect(admin, start).toBeDefined();
      expect(blocks).toHaveLength(4);
      expect(answers).toHaveLength(2);
      const before = tour.filter((b) => !b.includes('not-an-email'));
      const outputs = await shellSession(base, [...before, ...blocks]);
      const [modelled, ran, approved, dropped] = outputs.slice(before.length).map(documents);
      for (const doc of modelled!) expect(doc.code, JSON.stringify(doc)).toBeUndefined();
      expect(modelled!.map((d) => d.name)).toEqual(['deal', 'task', 'Acme Corp deal']);
      // run now: the pass matched the stale deal and its one run finished — as the README shows
      const [pass, inbox] = ran!;
      expect(pass).toEqual(answers[0]);
      expect(inbox.data).toHaveLength(1);
      expect(inbox.data[0]).toMatchObject({
        status: 'pending',
        entity: 'deal',
        rule: { name: 'Follow up stale deals' },
      });
      expect(inbox.data[0].reason).toBe('Acme Corp deal is stuck. Last contact: 2026-01-05T10:00:00+00:00');
      expect(inbox.data[0].actions[0].values.subject).toBe('Call Acme Corp about Acme Corp deal');
      // approved: the task exists; the same stale deal is not suggested twice
      const [decided, tasks, again] = approved!;
      expect(decided).toMatchObject({ status: 'approved' });
      expect(tasks.data.map((t: { subject: string }) => t.subject)).toEqual(['Call Acme Corp about Acme Corp deal']);
      expect(again).toEqual(answers[1]);
      // the drop broke the rule: the answer warns, health lists it as invalid
      const [warned, health] = dropped!;
      expect(warned.warnings).toEqual([expect.objectContaining({ code: 'XRM_WARN_RULE_INVALID' })]);
      expect(warned.warnings[0].message).toContain('Follow up stale deals');
      expect(health.invalid.map((r: { name: string }) => r.name)).toEqual(['Follow up stale deals']);
      expect(health.invalid[0].statusReason).toContain('last_contact_at');
    });
  },
  { config: { adminEmail: admin?.[0], adminPassword: admin?.[1] } },
);
