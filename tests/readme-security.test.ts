/**
 * The README's security section, run as a reader gets to it: the tour (its bad-input step aside)
 * and the Querying examples first, then the section's ```sh blocks — all in ONE bash session, so
 * `$TOKEN` (the tour's sign-in) and `$PAT` carry from block to block — with curl against a real
 * socket. Pat's answers must be the ones the section shows.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/platform.ts';
import { jsonBlocks, section, shBlocks, shellSession, tourAdmin } from './support/readme.ts';

const [start, ...tour] = shBlocks(section('## A five-minute tour', '## The metadata API'));
const admin = tourAdmin(start);
const querying = shBlocks(section('## Querying', '## Performance'));
const security = section('## Security: users, roles, and who sees what', '## Automation: rules that follow up for you');
const blocks = shBlocks(security);
const answers = jsonBlocks(security);

describeEachDatabase(
  'README security section',
  (get) => {
    let base = '';
    beforeAll(async () => {
      const address = await get().app.listen({ port: 0, host: '127.0.0.1' });
      base = address.replace('127.0.0.1', 'localhost');
    });

    it('shows a partner manager only her region, without the revenue, and refuses sorting by it', async () => {
      expect(admin, start).toBeDefined();
      expect(blocks).toHaveLength(3);
      expect(answers).toHaveLength(2);
      // the tour without its last step (a refused record, on purpose), the Querying examples, the section
      const before = [...tour.filter((b) => !b.includes('not-an-email')), ...querying];
      const outputs = await shellSession(base, [...before, ...blocks]);
      const [modelled, listed, sorted] = outputs.slice(before.length);
      // every modelling call succeeded
      expect(modelled).not.toContain('XRM_ERR_');
      const created = modelled!
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(created[0]).toMatchObject({ name: 'annual_revenue', secured: true });
      expect(created[1]).toMatchObject({ name: 'partner_manager', builtIn: false });
      expect(created[2]).toMatchObject({ name: 'emea-sales' });
      expect(created[3]).toMatchObject({ email: 'pat@example.com', roles: ['partner_manager'], teams: ['emea-sales'] });
      expect(created[4]).toMatchObject({ name: 'Sakura Trading', region: 'apac' });
      // Pat's list: what the README shows, the id aside
      const page = JSON.parse(listed!.trim());
      const shown = JSON.parse(answers[0]!);
      expect(page.data).toHaveLength(1);
      expect(page).toEqual({ data: [{ ...shown.data[0], id: page.data[0].id }] });
      // the refusal, exactly as shown
      expect(JSON.parse(sorted!.trim())).toEqual(JSON.parse(answers[1]!));
    });
  },
  { config: { adminEmail: admin?.[0], adminPassword: admin?.[1] } },
);
