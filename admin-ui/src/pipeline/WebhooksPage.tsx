/**
 * Webhook subscriptions: create one (its signing secret is shown this once), turn it off and on,
 * send a test event, delete it, and read its delivery log.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import {
  Badge,
  EmptyState,
  Field,
  FieldGroup,
  Loading,
  PageHeader,
  ProblemBanner,
  TableHead,
} from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import { mapErrors } from '../forms.ts';
import { useTitle } from '../router.tsx';
import type { Problem, Webhook, WebhookCreated, WebhookDelivery, WebhookMessage } from '../types.ts';

const MESSAGES: WebhookMessage[] = ['create', 'update', 'delete', 'associate', 'disassociate'];
const DEFAULT_MESSAGES: WebhookMessage[] = ['create', 'update', 'delete'];

export function WebhooksPage() {
  useTitle('Webhooks');
  const [webhooks, setWebhooks] = useState<Webhook[]>();
  const [problem, setProblem] = useState<Problem>();

  const load = useCallback(async () => {
    try {
      setWebhooks(await api.webhooks());
      setProblem(undefined);
    } catch (error) {
      setProblem(toProblem(error));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <>
      <PageHeader
        title="Webhooks"
        subtitle="Signed HTTP deliveries (Standard Webhooks) of the changes to an entity, retried until they succeed."
      />
      <CreateWebhook onCreated={() => void load()} />
      <h2 className="section-title">Subscriptions</h2>
      {problem ? <ProblemBanner problem={problem} onRetry={() => void load()} /> : null}
      {!webhooks ? (
        problem ? null : (
          <Loading label="Loading the webhooks…" />
        )
      ) : webhooks.length === 0 ? (
        <EmptyState title="No webhooks yet" />
      ) : (
        <ul className="plain-list webhook-list">
          {webhooks.map((w) => (
            <li key={w.id}>
              <WebhookCard
                webhook={w}
                onChanged={(next) => setWebhooks((list) => list?.map((x) => (x.id === next.id ? next : x)))}
                onDeleted={() => setWebhooks((list) => list?.filter((x) => x.id !== w.id))}
              />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function CreateWebhook({ onCreated }: { onCreated(): void }) {
  const catalog = useCatalog();
  const { toast } = useOverlays();
  const [url, setUrl] = useState('');
  const [entity, setEntity] = useState('*');
  const [messages, setMessages] = useState<WebhookMessage[]>(DEFAULT_MESSAGES);
  const [description, setDescription] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const [created, setCreated] = useState<WebhookCreated>();
  const { byKey, unmapped } = mapErrors(problem, (path) => {
    const key = path.split('/')[1] ?? '';
    return ['url', 'entity', 'messages', 'description'].includes(key) ? key : undefined;
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setSaving(true);
    try {
      const body = { url: url.trim(), entity, messages, ...(description.trim() ? { description } : {}) };
      const webhook = await api.createWebhook(body);
      setCreated(webhook);
      setUrl('');
      setDescription('');
      toast('Webhook created');
      onCreated();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <>
      {created ? <SecretBox webhook={created} onDone={() => setCreated(undefined)} /> : null}
      <form className="form card" onSubmit={submit} noValidate aria-label="New webhook" aria-busy={saving}>
        <h2 className="card-title">New webhook</h2>
        {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
        <div className="form-grid">
          <Field
            label="URL"
            required
            hint="An http(s) receiver; internal addresses are refused."
            error={byKey.get('url')}
          >
            {(c) => (
              <input
                id={c.id}
                type="url"
                aria-required
                className="mono"
                placeholder="https://example.com/hooks/xrm"
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={url}
                onChange={(e) => setUrl(e.target.value)}
              />
            )}
          </Field>
          <Field label="Entity" error={byKey.get('entity')}>
            {(c) => (
              <select
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={entity}
                onChange={(e) => setEntity(e.target.value)}
              >
                <option value="*">* (every entity)</option>
                {catalog.entities.map((e) => (
                  <option key={e.name} value={e.name}>
                    {e.displayName} ({e.name})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <FieldGroup legend="Messages" error={byKey.get('messages')} className="span-2">
            <div className="checks">
              {MESSAGES.map((m) => (
                <label key={m} className="check">
                  <input
                    type="checkbox"
                    checked={messages.includes(m)}
                    onChange={(e) =>
                      setMessages((list) => (e.target.checked ? [...list, m] : list.filter((x) => x !== m)))
                    }
                  />
                  {m}
                </label>
              ))}
            </div>
          </FieldGroup>
          <Field label="Description" error={byKey.get('description')} className="span-2">
            {(c) => (
              <input
                id={c.id}
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={description}
                onChange={(e) => setDescription(e.target.value)}
              />
            )}
          </Field>
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={saving}>
            Create webhook
          </button>
        </div>
      </form>
    </>
  );
}

/** The signing secret of a new webhook, shown this once, with a copy button. */
function SecretBox({ webhook, onDone }: { webhook: WebhookCreated; onDone(): void }) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  return (
    <section className="card secret-box" aria-labelledby={`${id}-title`}>
      <h2 className="card-title" id={`${id}-title`}>
        Signing secret of {webhook.url}
      </h2>
      <p className="secret-warning" role="note">
        This secret is shown once: store it now. Receivers verify the webhook-signature header with it.
      </p>
      <div className="secret-row">
        <label htmlFor={`${id}-secret`} className="visually-hidden">
          Webhook secret
        </label>
        <input
          id={`${id}-secret`}
          className="mono"
          readOnly
          value={webhook.secret}
          onFocus={(e) => e.target.select()}
        />
        <button
          type="button"
          className="btn"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(webhook.secret);
              setCopied(true);
            } catch {
              setCopied(false);
            }
          }}
        >
          {copied ? 'Copied' : 'Copy secret'}
        </button>
        <button type="button" className="btn" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </section>
  );
}

function WebhookCard({
  webhook,
  onChanged,
  onDeleted,
}: {
  webhook: Webhook;
  onChanged(webhook: Webhook): void;
  onDeleted(): void;
}) {
  const { confirm, toast } = useOverlays();
  const id = useId();
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const [test, setTest] = useState<WebhookDelivery>();
  const [showLog, setShowLog] = useState(false);
  const [logToken, setLogToken] = useState(0);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await action();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };

  const setEnabled = (enabled: boolean) =>
    run(async () => {
      onChanged(await api.updateWebhook(webhook.id, { enabled }));
      toast(`Webhook ${enabled ? 'enabled' : 'disabled'}`);
    });

  const sendTest = () =>
    run(async () => {
      setTest(await api.testWebhook(webhook.id));
      setLogToken((t) => t + 1);
    });

  const remove = async () => {
    const ok = await confirm({
      title: `Delete the webhook to ${webhook.url}?`,
      body: <p>Its deliveries stop at once; its delivery log is deleted with it.</p>,
      confirmLabel: 'Delete webhook',
      danger: true,
    });
    if (!ok) return;
    await run(async () => {
      await api.deleteWebhook(webhook.id);
      toast('Webhook deleted');
      onDeleted();
    });
  };

  return (
    <section className="card webhook" aria-labelledby={`${id}-title`} aria-busy={busy}>
      <div className="webhook-head">
        <div>
          <h3 className="webhook-url mono" id={`${id}-title`}>
            {webhook.url}
          </h3>
          <p className="small muted">
            {webhook.entity === '*' ? 'every entity' : <code>{webhook.entity}</code>} · {webhook.messages.join(', ')}
            {webhook.description ? ` · ${webhook.description}` : ''}
          </p>
          {webhook.disabledReason ? (
            <p className="small">
              <Badge tone="warn">turned off</Badge> {webhook.disabledReason}
            </p>
          ) : null}
        </div>
        <div className="row-actions">
          <label className="check">
            <input
              type="checkbox"
              role="switch"
              checked={webhook.enabled}
              aria-checked={webhook.enabled}
              disabled={busy}
              onChange={(e) => void setEnabled(e.target.checked)}
            />
            Enabled
          </label>
          <button type="button" className="btn btn-small" disabled={busy} onClick={() => void sendTest()}>
            Send test
          </button>
          <button
            type="button"
            className="btn btn-small"
            aria-expanded={showLog}
            aria-controls={`${id}-log`}
            onClick={() => setShowLog((s) => !s)}
          >
            Deliveries
          </button>
          <button type="button" className="btn btn-small btn-danger" disabled={busy} onClick={() => void remove()}>
            Delete
          </button>
        </div>
      </div>
      {problem ? <ProblemBanner problem={problem} /> : null}
      {test ? (
        <p className="small test-result" role="status">
          Test delivery: <Badge tone={test.success ? 'ok' : 'warn'}>{test.success ? 'delivered' : 'failed'}</Badge>{' '}
          status {test.status ?? 'no answer'} · {test.durationMs} ms{test.error ? ` · ${test.error}` : ''}
        </p>
      ) : null}
      <div id={`${id}-log`} hidden={!showLog}>
        {showLog ? <DeliveryLog key={logToken} webhookId={webhook.id} /> : null}
      </div>
    </section>
  );
}

function DeliveryLog({ webhookId }: { webhookId: string }) {
  const [deliveries, setDeliveries] = useState<WebhookDelivery[]>();
  const [cursor, setCursor] = useState<string>();
  const [problem, setProblem] = useState<Problem>();

  const load = useCallback(
    async (after?: string) => {
      try {
        const page = await api.webhookDeliveries(webhookId, { limit: 20, cursor: after });
        setDeliveries((list) => (after ? [...(list ?? []), ...page.data] : page.data));
        setCursor(page.nextCursor);
        setProblem(undefined);
      } catch (error) {
        setProblem(toProblem(error));
      }
    },
    [webhookId],
  );

  useEffect(() => {
    void load();
  }, [load]);

  if (problem) return <ProblemBanner problem={problem} onRetry={() => void load()} />;
  if (!deliveries) return <Loading label="Loading the deliveries…" />;
  if (!deliveries.length) return <p className="muted small">No deliveries yet.</p>;
  return (
    <>
      <div className="table-wrap">
        <table className="table" aria-label="Delivery log">
          <TableHead
            columns={[
              'Time',
              'Event',
              { label: 'Status', numeric: true },
              { label: 'Attempt', numeric: true },
              { label: 'Duration', numeric: true },
              'Error',
            ]}
          />
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id}>
                <td className="small">
                  <Temporal kind="datetime" value={d.createdAt} />
                </td>
                <td>
                  <code>{d.eventType}</code>
                </td>
                <td className="num">
                  <Badge tone={d.success ? 'ok' : 'warn'}>{d.status ?? '—'}</Badge>
                </td>
                <td className="num">{d.attempt}</td>
                <td className="num">{d.durationMs} ms</td>
                <td className="small wrap-anywhere">{d.error ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {cursor ? (
        <button type="button" className="btn btn-small" onClick={() => void load(cursor)}>
          Load more
        </button>
      ) : null}
    </>
  );
}
