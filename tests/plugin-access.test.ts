/**
 * Plugins act as their caller: a step's `ctx.data` reads and writes with the roles of whoever
 * made the write (an async step: with the roles they hold when it runs), and
 * `ctx.data!.asSystem()` is the explicit way past that.
 */
import { expect, it } from 'vitest';
import { definePlugin } from '../plugins/api.ts';
import { api } from './support/http.ts';
import { describeEachDatabase } from './support/platform.ts';

/** Record ids `validate` steps of upserts on `tagged` were shown. */
const validated: (string | undefined)[] = [];

const watcher = definePlugin({
  name: 'secret-watcher',
  version: '1.0.0',
  setup(plugin) {
    plugin.on({ message: 'create', entity: 'note', stage: 'before' }, async (ctx) => {
      ctx.input.seen = (await ctx.data!.list('secret')).data.length;
      ctx.input.seen_by_system = (await ctx.data!.asSystem().list('secret')).data.length;
    });
    for (const message of ['create', 'update'] as const)
      plugin.on({ message, entity: 'tagged', stage: 'validate' }, (ctx) => {
        validated.push(ctx.id);
      });
    plugin.on({ message: 'create', entity: 'note', stage: 'async' }, async (ctx) => {
      const seen = (await ctx.data!.list('secret')).data.length;
      await ctx.data!.update('note', ctx.id!, { seen_async: seen });
    });
  },
});

describeEachDatabase(
  'plugins act as their caller',
  (get) => {
    it("reads and writes with the caller's roles, in sync and async steps; asSystem() sees everything", async () => {
      const admin = api(get().app);
      for (const body of [
        { name: 'secret', fields: [{ name: 'name', type: 'text' }] },
        {
          name: 'note',
          fields: [
            { name: 'name', type: 'text' },
            { name: 'seen', type: 'integer' },
            { name: 'seen_by_system', type: 'integer' },
            { name: 'seen_async', type: 'integer' },
          ],
        },
      ])
        expect((await admin.post('/api/metadata/entities', body)).status).toBe(201);
      const role = {
        name: 'note_writer',
        privileges: [
          { entity: 'note', create: 'own', read: 'own', update: 'own' },
          { entity: 'secret', create: 'own', read: 'own' },
        ],
      };
      expect((await admin.post('/api/roles', role)).status).toBe(201);
      const user = { email: 'writer@example.com', password: 'note-writer-password', roles: ['note_writer'] };
      expect((await admin.post('/api/users', user)).status).toBe(201);
      const signIn = { email: user.email, password: user.password };
      const token = (await api(get().app, null).post('/api/auth/login', signIn)).body.token as string;
      const writer = api(get().app, token);
      for (const name of ['a', 'b', 'c']) expect((await admin.post('/api/data/secret', { name })).status).toBe(201);
      expect((await writer.post('/api/data/secret', { name: 'mine' })).status).toBe(201);

      const note = await writer.post('/api/data/note', { name: 'hello' });
      expect(note.status).toBe(201);
      // the before step listed what the writer can read, and what the system can
      expect(note.body).toMatchObject({ seen: 1, seen_by_system: 4 });
      // the async step ran later, as the writer, and could update the writer's own note
      await expect
        .poll(async () => (await admin.get(`/api/data/note/${note.body.id}`)).body.seen_async, { timeout: 15_000 })
        .toBe(1);
    });

    it('never shows a step a record its caller cannot read, upserting onto its key', async () => {
      const admin = api(get().app);
      const tagged = { name: 'tagged', fields: [{ name: 'code', type: 'text', required: true }] };
      expect((await admin.post('/api/metadata/entities', tagged)).status).toBe(201);
      const key = { name: 'tagged_code', fields: ['code'] };
      expect((await admin.post('/api/metadata/entities/tagged/keys', key)).status).toBe(201);
      const role = { name: 'tagger', privileges: [{ entity: 'tagged', create: 'own', read: 'own', update: 'own' }] };
      expect((await admin.post('/api/roles', role)).status).toBe(201);
      const user = { email: 'tagger@example.com', password: 'tagger-password-1' };
      expect((await admin.post('/api/users', { ...user, roles: ['tagger'] })).status).toBe(201);
      const tagger = api(get().app, (await api(get().app, null).post('/api/auth/login', user)).body.token as string);
      const hidden = (await admin.post('/api/data/tagged', { code: 'X' })).body;
      validated.length = 0;
      const refused = await tagger.post('/api/data/tagged/upsert?key=tagged_code', { code: 'X' });
      expect(refused.status).toBe(403);
      expect(validated).not.toContain(hidden.id);
      expect(JSON.stringify(refused.body)).not.toContain(hidden.id);
    });
  },
  { build: { plugins: [watcher] } },
);
