/**
 * The signed-in user's API keys: create one (the key is shown this once), see when each was last
 * used, revoke it.
 */
import { useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, EmptyState, Field, Loading, PageHeader, ProblemBanner, TableHead } from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import { mapErrors } from '../forms.ts';
import { useTitle } from '../router.tsx';
import type { ApiKey, ApiKeyCreated, Problem } from '../types.ts';
import { NameChecks, ShownOnce } from './controls.tsx';
import { useMe } from './session.tsx';
import { useResource } from './use-resource.ts';

export function ApiKeysPage() {
  useTitle('API keys');
  const keys = useResource(api.apiKeys);
  const [created, setCreated] = useState<ApiKeyCreated>();
  return (
    <>
      <PageHeader
        title="API keys"
        subtitle={
          <>
            Your keys for scripts and integrations: send one as <code>Authorization: Bearer xrm_…</code>. A key acts as
            you, with your roles or fewer.
          </>
        }
      />
      {created ? (
        <ShownOnce
          title={`Key “${created.name}”`}
          label="API key"
          value={created.key}
          warning="This key is shown once: copy it now and store it somewhere safe. Only its hash is kept."
          onDone={() => setCreated(undefined)}
        />
      ) : null}
      <CreateKey
        onCreated={(key) => {
          setCreated(key);
          void keys.reload();
        }}
      />
      <h2 className="section-title">Your keys</h2>
      {keys.problem ? <ProblemBanner problem={keys.problem} onRetry={() => void keys.reload()} /> : null}
      {!keys.data ? (
        keys.problem ? null : (
          <Loading label="Loading your keys…" />
        )
      ) : keys.data.length === 0 ? (
        <EmptyState title="No API keys yet" />
      ) : (
        <KeyTable keys={keys.data} onRevoked={() => void keys.reload()} />
      )}
    </>
  );
}

function CreateKey({ onCreated }: { onCreated(key: ApiKeyCreated): void }) {
  const me = useMe();
  const { toast } = useOverlays();
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [roles, setRoles] = useState<string[]>([]);
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, (path) => {
    const key = path.split('/')[1] ?? '';
    return ['name', 'expiresAt', 'roles'].includes(key) ? key : undefined;
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setSaving(true);
    try {
      const key = await api.createApiKey({
        name: name.trim(),
        // a local date and time from the picker, sent as an instant
        ...(expires ? { expiresAt: new Date(expires).toISOString() } : {}),
        ...(roles.length ? { roles } : {}),
      });
      setName('');
      setExpires('');
      setRoles([]);
      toast('API key created');
      onCreated(key);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="form card" onSubmit={submit} noValidate aria-label="New API key" aria-busy={saving}>
      <h2 className="card-title">New API key</h2>
      {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
      <div className="form-grid">
        <Field label="Key name" required hint="What the key is for." error={byKey.get('name')}>
          {(c) => (
            <input
              id={c.id}
              aria-required
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Expires" hint="Empty: never." error={byKey.get('expiresAt')}>
          {(c) => (
            <input
              id={c.id}
              type="datetime-local"
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={expires}
              onChange={(e) => setExpires(e.target.value)}
            />
          )}
        </Field>
        {me.roles.length ? (
          <NameChecks
            legend="Limit to roles"
            hint="None checked: the key has all your roles."
            options={me.roles.map((r) => ({ value: r, label: r }))}
            value={roles}
            onChange={setRoles}
            error={byKey.get('roles')}
            empty=""
          />
        ) : null}
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={saving}>
          Create key
        </button>
      </div>
    </form>
  );
}

function keyState(key: ApiKey): { label: string; tone: 'ok' | 'warn' | 'neutral' } {
  if (key.revokedAt) return { label: 'revoked', tone: 'neutral' };
  if (key.expiresAt && Date.parse(key.expiresAt) <= Date.now()) return { label: 'expired', tone: 'warn' };
  return { label: 'active', tone: 'ok' };
}

function KeyTable({ keys, onRevoked }: { keys: ApiKey[]; onRevoked(): void }) {
  const { confirm, toast } = useOverlays();
  const [problem, setProblem] = useState<Problem>();

  const revoke = async (key: ApiKey) => {
    setProblem(undefined);
    const ok = await confirm({
      title: `Revoke the key “${key.name}”?`,
      body: <p>Requests with it are refused from the next one on. This cannot be undone.</p>,
      confirmLabel: 'Revoke key',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.revokeApiKey(key.id);
      toast(`Key “${key.name}” revoked`);
      onRevoked();
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  return (
    <>
      {problem ? <ProblemBanner problem={problem} /> : null}
      <div className="table-wrap">
        <table className="table" aria-label="API keys">
          <TableHead columns={['Name', 'State', 'Roles', 'Created', 'Expires', 'Last used']} actions="Actions" />
          <tbody>
            {keys.map((k) => {
              const state = keyState(k);
              return (
                <tr key={k.id}>
                  <td className="strong">{k.name}</td>
                  <td>
                    <Badge tone={state.tone}>{state.label}</Badge>
                  </td>
                  <td className="small">{k.roles?.length ? k.roles.join(', ') : <span className="muted">all</span>}</td>
                  <td className="small">
                    <Temporal kind="datetime" value={k.createdAt} />
                  </td>
                  <td className="small">
                    {k.expiresAt ? (
                      <Temporal kind="datetime" value={k.expiresAt} />
                    ) : (
                      <span className="muted">never</span>
                    )}
                  </td>
                  <td className="small">
                    {k.lastUsedAt ? (
                      <Temporal kind="datetime" value={k.lastUsedAt} />
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td className="row-actions">
                    {k.revokedAt ? null : (
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        aria-label={`Revoke key ${k.name}`}
                        onClick={() => void revoke(k)}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
