/**
 * One automation rule: the builder (name, entity, trigger, condition, actions; saved with POST or
 * PATCH, the server's problems shown at their paths), a dry run on a record, "Run now" for schedule
 * rules, and the rule's run log on its own tab.
 */
import { useCallback, useEffect, useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { toProblem } from '../api.ts';
import { entityOf, useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, Field, FieldGroup, Loading, PageHeader, ProblemBanner, Tabs } from '../components/ui.tsx';
import { columnsOf } from '../records/columns.ts';
import { LookupPicker } from '../records/LookupPicker.tsx';
import { Link, navigate, useLocation, useTitle } from '../router.tsx';
import type { Problem } from '../types.ts';
import { ActionsEditor } from './ActionEditor.tsx';
import { automationApi, notificationsChanged } from './api.ts';
import { ConditionEditor } from './ConditionEditor.tsx';
import { ActionList, StatusBadge, triggerSummary } from './describe.tsx';
import {
  controlPaths,
  EMPTY_CONDITION,
  EVENT_MESSAGES,
  newDraft,
  pathErrors,
  ruleBody,
  ruleDraft,
  type RuleDraft,
} from './rule-draft.ts';
import { RunLog } from './RunLog.tsx';
import { TemplateHints, TemplateScope } from './templates.tsx';
import type { DryRun, Rule, Run, TriggerType } from './types.ts';

export type RuleTab = 'rule' | 'runs';

const TRIGGERS: { type: TriggerType; label: string; hint: string }[] = [
  { type: 'event', label: 'When a record changes', hint: 'Created, updated, deleted, associated or disassociated.' },
  { type: 'schedule', label: 'On a schedule', hint: 'Runs over every record that meets the condition.' },
  { type: 'manual', label: 'By hand', hint: 'A button on the record page, for everyone who can read the record.' },
];

export function RuleBuilderPage({ id, tab = 'rule' }: { id?: string; tab?: RuleTab }) {
  const { confirm, toast } = useOverlays();
  const [rule, setRule] = useState<Rule>();
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    if (!id) return;
    try {
      setRule(await automationApi.rule(id));
      setProblem(undefined);
    } catch (error) {
      setProblem(toProblem(error));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  useTitle(rule ? `${rule.name} · Automation` : id ? 'Automation rule' : 'New automation rule');

  if (id && !rule) {
    return (
      <>
        <PageHeader title="Automation rule" breadcrumbs={[{ label: 'Automation', to: '/automation' }]} />
        {problem ? (
          <ProblemBanner problem={problem} onRetry={() => void load()} />
        ) : (
          <Loading label="Loading the rule…" />
        )}
      </>
    );
  }

  const runNow = async () => {
    if (!rule) return;
    setBusy(true);
    setProblem(undefined);
    try {
      const pass = await automationApi.runSchedule(rule.id);
      toast(`Run now: ${pass.matched} record${pass.matched === 1 ? '' : 's'} matched, ${pass.queued} run(s) queued`);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!rule) return;
    const ok = await confirm({
      title: `Delete the rule “${rule.name}”?`,
      body: <p>It stops at once. Its run log and the suggestions it made are kept.</p>,
      confirmLabel: 'Delete rule',
      danger: true,
    });
    if (!ok) return;
    try {
      await automationApi.deleteRule(rule.id);
      toast(`Rule “${rule.name}” deleted`);
      navigate('/automation');
    } catch (error) {
      setProblem(toProblem(error));
    }
  };

  return (
    <>
      <PageHeader
        breadcrumbs={[{ label: 'Automation', to: '/automation' }]}
        title={rule ? rule.name : 'New rule'}
        subtitle={
          rule ? (
            <>
              <StatusBadge status={rule.status} /> {triggerSummary(rule.trigger)} · version {rule.version}
              {rule.runAs ? ` · runs as ${rule.runAs}` : ''}
              {rule.statusReason ? <span className="automation-reason"> · {rule.statusReason}</span> : null}
            </>
          ) : (
            'A rule acts on records of one entity: when they change, on a schedule, or by hand.'
          )
        }
        actions={
          rule ? (
            <>
              {rule.trigger.type === 'schedule' ? (
                <button type="button" className="btn" disabled={busy} onClick={() => void runNow()}>
                  Run now
                </button>
              ) : null}
              <button type="button" className="btn btn-danger" onClick={() => void remove()}>
                Delete
              </button>
            </>
          ) : undefined
        }
      />
      {problem && rule ? <ProblemBanner problem={problem} /> : null}
      {rule ? (
        <Tabs
          label="Rule"
          current={tab}
          tabs={[
            { id: 'rule', label: 'Rule', to: `/automation/${rule.id}` },
            { id: 'runs', label: 'Run log', to: `/automation/${rule.id}/runs` },
          ]}
        />
      ) : null}
      {rule && tab === 'runs' ? (
        <section id="tabpanel" role="tabpanel" aria-labelledby="tab-runs" className="tabpanel">
          <RunLog rule={rule} />
        </section>
      ) : (
        <Panel tabbed={rule !== undefined}>
          <RuleEditor key={rule ? `${rule.id}:${rule.version}:${rule.status}` : 'new'} rule={rule} onSaved={setRule} />
          {rule ? <TestBox rule={rule} /> : null}
        </Panel>
      )}
    </>
  );
}

function Panel({ tabbed, children }: { tabbed: boolean; children: ReactNode }) {
  if (!tabbed) return <>{children}</>;
  return (
    <section id="tabpanel" role="tabpanel" aria-labelledby="tab-rule" className="tabpanel">
      {children}
    </section>
  );
}

function RuleEditor({ rule, onSaved }: { rule?: Rule; onSaved(rule: Rule): void }) {
  const catalog = useCatalog();
  const { toast } = useOverlays();
  const { search } = useLocation();
  const id = useId();
  const [draft, setDraft] = useState<RuleDraft>(() => {
    if (!rule) return newDraft(search.get('entity') ?? catalog.entities[0]?.name ?? '');
    const entity = entityOf(catalog, rule.entity);
    return ruleDraft(rule, entity ? columnsOf(catalog, entity) : []);
  });
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const entity = entityOf(catalog, draft.entity);
  const columns = useMemo(() => (entity ? columnsOf(catalog, entity) : []), [catalog, entity]);
  const errors = pathErrors(problem, controlPaths(draft));
  const set = (patch: Partial<RuleDraft>) => setDraft((d) => ({ ...d, ...patch }));

  // a section, not a form: the condition's filter builder is a form of its own
  const save = async () => {
    const built = ruleBody(draft, !rule, columns, catalog.entities);
    if (built.problem) {
      setProblem(built.problem);
      return;
    }
    setProblem(undefined);
    setSaving(true);
    try {
      if (rule) {
        const saved = await automationApi.updateRule(rule.id, built.body);
        toast(`Rule “${saved.name}” saved`);
        onSaved(saved);
      } else {
        const saved = await automationApi.createRule(built.body);
        toast(`Rule “${saved.name}” created`);
        navigate(`/automation/${saved.id}`, { replace: true });
      }
    } catch (error) {
      setProblem(toProblem(error));
      setSaving(false);
    }
  };

  const updateOnly = draft.trigger === 'event' && draft.messages.includes('update');

  return (
    <TemplateScope>
      <section className="rule-builder" aria-label="Rule builder" aria-busy={saving}>
        {problem ? <ProblemBanner problem={problem} errors={errors.unmapped} /> : null}
        <section className="card form" aria-labelledby={`${id}-basics`}>
          <h2 className="card-title" id={`${id}-basics`}>
            Rule
          </h2>
          <div className="form-grid">
            <Field label="Name" required error={errors.at('/name')}>
              {(c) => (
                <input
                  id={c.id}
                  aria-required
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid || undefined}
                  maxLength={200}
                  value={draft.name}
                  onChange={(e) => set({ name: e.target.value })}
                />
              )}
            </Field>
            <Field
              label="Entity"
              required
              error={errors.at('/entity')}
              hint={rule ? 'Changing it clears the condition.' : undefined}
            >
              {(c) => (
                <select
                  id={c.id}
                  aria-required
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid || undefined}
                  value={draft.entity}
                  onChange={(e) => set({ entity: e.target.value, condition: EMPTY_CONDITION, changed: [] })}
                >
                  {entity ? null : <option value={draft.entity}>{draft.entity || 'Choose an entity…'}</option>}
                  {catalog.entities.map((e) => (
                    <option key={e.name} value={e.name}>
                      {e.displayName} ({e.name})
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Description" error={errors.at('/description')} className="span-2">
              {(c) => (
                <input
                  id={c.id}
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid || undefined}
                  value={draft.description}
                  onChange={(e) => set({ description: e.target.value })}
                />
              )}
            </Field>
            <Field
              label="Runs per minute at most"
              hint="Past it the rule is turned off (a loop); default 60."
              error={errors.at('/maxRunsPerMinute')}
            >
              {(c) => (
                <input
                  id={c.id}
                  type="number"
                  min={1}
                  step={1}
                  inputMode="numeric"
                  placeholder="60"
                  aria-describedby={c.describedBy}
                  aria-invalid={c.invalid || undefined}
                  value={draft.maxRunsPerMinute}
                  onChange={(e) => set({ maxRunsPerMinute: e.target.value })}
                />
              )}
            </Field>
            {rule ? null : (
              <FieldGroup legend="State" error={errors.at('/enabled')}>
                <label className="check">
                  <input type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
                  Enabled when saved
                </label>
              </FieldGroup>
            )}
          </div>
        </section>

        <section className="card form" aria-labelledby={`${id}-trigger`}>
          <h2 className="card-title" id={`${id}-trigger`}>
            Trigger
          </h2>
          <FieldGroup legend="Runs" error={errors.at('/trigger') ?? errors.at('/trigger/type')}>
            <div className="checks checks-column">
              {TRIGGERS.map((t) => (
                <label key={t.type} className="check">
                  <input
                    type="radio"
                    name={`${id}-trigger`}
                    value={t.type}
                    checked={draft.trigger === t.type}
                    onChange={() => set({ trigger: t.type })}
                  />
                  <span>
                    {t.label} <span className="small muted">— {t.hint}</span>
                  </span>
                </label>
              ))}
            </div>
          </FieldGroup>
          {draft.trigger === 'event' ? (
            <>
              <FieldGroup legend="Messages" error={errors.at('/trigger/messages')}>
                <div className="checks">
                  {EVENT_MESSAGES.map((m) => (
                    <label key={m} className="check">
                      <input
                        type="checkbox"
                        checked={draft.messages.includes(m)}
                        onChange={(e) =>
                          set({
                            messages: e.target.checked
                              ? EVENT_MESSAGES.filter((x) => x === m || draft.messages.includes(x))
                              : draft.messages.filter((x) => x !== m),
                          })
                        }
                      />
                      {m}
                    </label>
                  ))}
                </div>
              </FieldGroup>
              {updateOnly && entity ? (
                <FieldGroup
                  legend="Only when one of these fields changes (updates)"
                  hint="None checked: any update."
                  error={errors.at('/trigger/changed')}
                >
                  <div className="checks">
                    {entity.fields.map((f) => (
                      <label key={f.name} className="check">
                        <input
                          type="checkbox"
                          checked={draft.changed.includes(f.name)}
                          onChange={(e) =>
                            set({
                              changed: e.target.checked
                                ? [...draft.changed, f.name]
                                : draft.changed.filter((x) => x !== f.name),
                            })
                          }
                        />
                        {f.displayName}
                      </label>
                    ))}
                  </div>
                </FieldGroup>
              ) : null}
            </>
          ) : draft.trigger === 'schedule' ? (
            <div className="form-grid schedule-fields">
              <Field
                label="Cron"
                required
                error={errors.at('/trigger/cron')}
                hint={
                  <>
                    Five or six fields: minute hour day-of-month month day-of-week, e.g. <code>0 8 * * 1-5</code>{' '}
                    (weekdays at 08:00) or <code>*/15 * * * *</code> (every quarter hour).
                  </>
                }
              >
                {(c) => (
                  <input
                    id={c.id}
                    className="mono"
                    aria-required
                    aria-describedby={c.describedBy}
                    aria-invalid={c.invalid || undefined}
                    value={draft.cron}
                    onChange={(e) => set({ cron: e.target.value })}
                  />
                )}
              </Field>
              <Field
                label="Time zone"
                error={errors.at('/trigger/timeZone')}
                hint="An IANA name such as Europe/Berlin; the cron's hours are in it."
              >
                {(c) => (
                  <>
                    <input
                      id={c.id}
                      list={`${id}-zones`}
                      aria-describedby={c.describedBy}
                      aria-invalid={c.invalid || undefined}
                      value={draft.timeZone}
                      onChange={(e) => set({ timeZone: e.target.value })}
                    />
                    <TimeZones id={`${id}-zones`} />
                  </>
                )}
              </Field>
            </div>
          ) : (
            <p className="small muted">
              Record pages of {entity?.pluralDisplayName.toLowerCase() ?? 'the entity'} show a button for this rule
              while it is active; it runs on that record, as the user who presses it.
            </p>
          )}
        </section>

        <section className="card form" aria-labelledby={`${id}-condition`}>
          <h2 className="card-title" id={`${id}-condition`}>
            Condition
          </h2>
          {entity ? (
            <ConditionEditor
              draft={draft.condition}
              onChange={(condition) => set({ condition })}
              columns={columns}
              trigger={draft.trigger}
              error={errors.at('/condition')}
            />
          ) : (
            <p className="small muted">Choose the entity first.</p>
          )}
        </section>

        <section className="card form" aria-labelledby={`${id}-actions`}>
          <h2 className="card-title" id={`${id}-actions`}>
            Actions
          </h2>
          {entity ? <TemplateHints entity={entity} /> : null}
          {entity ? (
            <ActionsEditor
              actions={draft.actions}
              onChange={(actions) => set({ actions })}
              path="/actions"
              entity={entity}
              errors={errors}
            />
          ) : null}
        </section>

        <div className="form-actions rule-save">
          <button type="button" className="btn btn-primary" disabled={saving} onClick={() => void save()}>
            {saving ? 'Saving…' : rule ? 'Save rule' : 'Create rule'}
          </button>
          <Link to="/automation" className="btn">
            {rule ? 'Back to the rules' : 'Cancel'}
          </Link>
        </div>
      </section>
    </TemplateScope>
  );
}

function TimeZones({ id }: { id: string }) {
  const zones = useMemo(() => {
    try {
      return Intl.supportedValuesOf('timeZone');
    } catch {
      return [];
    }
  }, []);
  return (
    <datalist id={id}>
      <option value="UTC" />
      {zones.map((z) => (
        <option key={z} value={z} />
      ))}
    </datalist>
  );
}

/** A dry run of the saved rule on one record (POST …/test), and a real run for manual and event rules. */
function TestBox({ rule }: { rule: Rule }) {
  const catalog = useCatalog();
  const { toast } = useOverlays();
  const id = useId();
  const entity = entityOf(catalog, rule.entity);
  const [recordId, setRecordId] = useState('');
  const [result, setResult] = useState<DryRun>();
  const [run, setRun] = useState<Run>();
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);

  const go = async (what: () => Promise<void>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await what();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };

  const test = (event: FormEvent) => {
    event.preventDefault();
    void go(async () => {
      setRun(undefined);
      setResult(await automationApi.test(rule.id, recordId.trim()));
    });
  };

  const runHere = () =>
    go(async () => {
      setResult(undefined);
      const entry = await automationApi.runOnRecord(rule.id, recordId.trim());
      setRun(entry);
      notificationsChanged();
      toast(`Rule “${rule.name}” ran: ${entry.outcome}`);
    });

  return (
    <form className="card form test-box" aria-label="Test on a record" onSubmit={test} noValidate aria-busy={busy}>
      <h2 className="card-title">Test on a record</h2>
      <p className="small muted">
        A dry run of the saved rule: whether the record meets its condition now and what each action would do. Nothing
        is written.
      </p>
      <div className="form-grid">
        <Field label="Record id">
          {(c) => (
            <input
              id={c.id}
              className="mono"
              aria-describedby={c.describedBy}
              value={recordId}
              onChange={(e) => setRecordId(e.target.value)}
            />
          )}
        </Field>
        {entity ? (
          <div className="field">
            <label htmlFor={`${id}-find`}>Or find a {entity.displayName.toLowerCase()}</label>
            <LookupPicker
              id={`${id}-find`}
              target={entity}
              value={recordId.trim()}
              showOpenLink={false}
              onChange={(value) => setRecordId(value)}
            />
          </div>
        ) : null}
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || !recordId.trim()}>
          Test
        </button>
        {rule.trigger.type !== 'schedule' && rule.status === 'active' ? (
          <button type="button" className="btn" disabled={busy || !recordId.trim()} onClick={() => void runHere()}>
            Run on this record
          </button>
        ) : null}
      </div>
      {problem ? <ProblemBanner problem={problem} /> : null}
      {result ? (
        <div className="test-result" role="status">
          <p>
            <Badge tone={result.matches ? 'ok' : 'warn'}>{result.matches ? 'matches' : 'does not match'}</Badge>{' '}
            {result.matches ? 'The record meets the condition.' : 'The record does not meet the condition now.'}
            {result.actingAs ? <span className="small muted"> Acting as {result.actingAs}.</span> : null}
          </p>
          {result.error ? (
            <p className="field-error wrap-anywhere">An action would fail: {result.error}</p>
          ) : (
            <p className="small muted">What the actions would do:</p>
          )}
          <ActionList actions={result.actions} recordId={result.id} label="What the actions would do" />
        </div>
      ) : null}
      {run ? (
        <div className="test-result" role="status">
          <p>
            Ran: <Badge tone={run.outcome === 'failed' ? 'warn' : 'ok'}>{run.outcome}</Badge> in {run.durationMs} ms
          </p>
          {run.detail?.actions ? (
            <ActionList
              actions={run.detail.actions}
              recordId={run.recordId ?? undefined}
              label="What the actions did"
            />
          ) : null}
        </div>
      ) : null}
    </form>
  );
}
