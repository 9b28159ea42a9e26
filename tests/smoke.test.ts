import { expect, it } from 'vitest';
import { describeEachDatabase } from './support/platform.ts';
import { api } from './support/http.ts';

describeEachDatabase('smoke', (get) => {
  it('serves health once migrated', async () => {
    const res = await api(get().app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });
});
