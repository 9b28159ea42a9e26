/**
 * A record's shares (GET /api/data/{entity}/{id}/shares) in a dialog: who it is shared with and
 * with which rights; sharing it with a user or a team (POST …/share), changing or withdrawing a
 * share (rights: []). Users and teams are listed by email and name when the caller may read them
 * (the `users` privilege), else by id.
 */
import { useCallback, useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { Dialog } from '../components/dialog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { Field, FieldGroup, Loading, ProblemBanner } from '../components/ui.tsx';
import { mapErrors } from '../forms.ts';
import type { EntityDef, Problem, Share, ShareRight, Team, UserAccount } from '../types.ts';
import { PRIVILEGE_LABELS } from './permissions.ts';
import { useCan, useMe } from './session.tsx';
import { useResource } from './use-resource.ts';

/** What a share can grant on one record (every privilege but create), in the grid's order. */
export const SHARE_RIGHTS: readonly ShareRight[] = [
  'read',
  'update',
  'delete',
  'append',
  'appendTo',
  'assign',
  'share',
];

type PrincipalKind = 'user' | 'team';

const kindOf = (share: Share): PrincipalKind => (share.principal.user !== undefined ? 'user' : 'team');
const idOf = (share: Share): string => share.principal.user ?? share.principal.team ?? '';

/** A share's rights in words, in the grid's order. */
export function rightsText(rights: readonly string[]): string {
  return SHARE_RIGHTS.filter((r) => rights.includes(r))
    .map((r) => PRIVILEGE_LABELS[r])
    .join(', ');
}

export function ShareDialog({
  entity,
  id,
  recordLabel,
  onClose,
}: {
  entity: EntityDef;
  id: string;
  recordLabel: string;
  onClose(): void;
}) {
  const me = useMe();
  const can = useCan();
  const { toast } = useOverlays();
  const shares = useResource(useCallback(() => api.shares(entity.name, id), [entity.name, id]));
  // the directory, for those whose roles may read it; else principals are given and shown by id
  const users = useResource(useCallback(() => (can.users ? api.users() : Promise.resolve(undefined)), [can.users]));
  const teams = useResource(useCallback(() => (can.users ? api.teams() : Promise.resolve(undefined)), [can.users]));
  const [kind, setKind] = useState<PrincipalKind>('user');
  const [principal, setPrincipal] = useState('');
  const [rights, setRights] = useState<ShareRight[]>(['read']);
  const [problem, setProblem] = useState<Problem>();
  const [clientErrors, setClientErrors] = useState<Map<string, string[]>>(new Map());
  const [saving, setSaving] = useState(false);

  const userLabel = (userId: string): { label: string; hint?: string } => {
    const user: Pick<UserAccount, 'email' | 'displayName'> | undefined =
      users.data?.find((u) => u.id === userId) ?? (me.user?.id === userId ? me.user : undefined);
    if (!user) return { label: userId };
    return { label: user.email, hint: user.displayName !== user.email ? user.displayName : undefined };
  };
  const teamLabel = (teamId: string): { label: string; hint?: string } => {
    const team: Pick<Team, 'name'> | undefined =
      teams.data?.find((t) => t.id === teamId) ?? me.teams.find((t) => t.id === teamId);
    return team ? { label: team.name, hint: 'team' } : { label: teamId, hint: 'team' };
  };
  const labelOf = (share: Share) => (kindOf(share) === 'user' ? userLabel(idOf(share)) : teamLabel(idOf(share)));
  const directory = kind === 'user' ? users.data : teams.data;

  // the server's paths name the body (`/principal/user`) or, for a shape error, `/body/...`
  const { byKey, unmapped } = mapErrors(problem, (path) => {
    const first = path.replace(/^\/body(?=\/)/, '').split('/')[1];
    return first === 'principal' || first === 'rights' ? first : undefined;
  });
  const errorOf = (key: string) => {
    const list = [...(clientErrors.get(key) ?? []), ...(byKey.get(key) ?? [])];
    return list.length ? list : undefined;
  };

  const send = async (target: { kind: PrincipalKind; id: string }, granted: ShareRight[]): Promise<boolean> => {
    setProblem(undefined);
    setSaving(true);
    try {
      const body = { principal: target.kind === 'user' ? { user: target.id } : { team: target.id }, rights: granted };
      shares.set(await api.share(entity.name, id, body));
      setSaving(false);
      return true;
    } catch (error) {
      setProblem(toProblem(error));
      setSaving(false);
      return false;
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const errors = new Map<string, string[]>();
    const target = principal.trim();
    if (!target) errors.set('principal', [`choose a ${kind}`]);
    if (!rights.length) errors.set('rights', ['tick at least one right (Remove withdraws a share)']);
    setClientErrors(errors);
    if (errors.size) return;
    if (await send({ kind, id: target }, rights)) {
      const who = kind === 'user' ? userLabel(target).label : teamLabel(target).label;
      toast(`Shared “${recordLabel}” with ${who}: ${rightsText(rights)}`);
      setPrincipal('');
      setRights(['read']);
    }
  };

  const remove = async (share: Share) => {
    if (await send({ kind: kindOf(share), id: idOf(share) }, []))
      toast(`“${recordLabel}” is no longer shared with ${labelOf(share).label}`);
  };

  const change = (share: Share) => {
    setKind(kindOf(share));
    setPrincipal(idOf(share));
    setRights(SHARE_RIGHTS.filter((r) => share.rights.includes(r)));
    setClientErrors(new Map());
  };

  return (
    <Dialog title={`Share “${recordLabel}”`} onClose={onClose} wide>
      <p className="muted small">
        A share gives a user or a team rights on this one {entity.displayName.toLowerCase()}, beyond what their roles
        allow.
      </p>
      {shares.problem ? <ProblemBanner problem={shares.problem} onRetry={() => void shares.reload()} /> : null}
      {!shares.data ? (
        shares.problem ? null : (
          <Loading label="Loading the shares…" />
        )
      ) : shares.data.length === 0 ? (
        <p className="muted">Not shared with anyone.</p>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Shares">
            <thead>
              <tr>
                <th scope="col">Shared with</th>
                <th scope="col">Rights</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shares.data.map((s) => {
                const { label, hint } = labelOf(s);
                return (
                  <tr key={`${kindOf(s)}:${idOf(s)}`}>
                    <td>
                      <span className={label === idOf(s) ? 'mono small' : 'strong'}>{label}</span>
                      {hint ? <span className="muted small"> {hint}</span> : null}
                    </td>
                    <td className="small">{rightsText(s.rights)}</td>
                    <td className="row-actions">
                      <button
                        type="button"
                        className="btn btn-small"
                        aria-label={`Change the share with ${label}`}
                        onClick={() => change(s)}
                      >
                        Change
                      </button>
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        aria-label={`Remove the share with ${label}`}
                        disabled={saving}
                        onClick={() => void remove(s)}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <form className="form share-form" onSubmit={submit} noValidate aria-label="Share with" aria-busy={saving}>
        <h3 className="section-title">Share with</h3>
        {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
        <FieldGroup legend="A user or a team">
          <div className="checks">
            {(['user', 'team'] as const).map((k) => (
              <label key={k} className="check">
                <input
                  type="radio"
                  name="share-kind"
                  checked={kind === k}
                  onChange={() => {
                    setKind(k);
                    setPrincipal('');
                  }}
                />
                {k === 'user' ? 'User' : 'Team'}
              </label>
            ))}
          </div>
        </FieldGroup>
        {directory ? (
          <Field label={kind === 'user' ? 'User' : 'Team'} required error={errorOf('principal')}>
            {(c) => (
              <select
                id={c.id}
                aria-required
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={principal}
                onChange={(e) => setPrincipal(e.target.value)}
              >
                <option value="">{kind === 'user' ? 'Choose a user…' : 'Choose a team…'}</option>
                {kind === 'user'
                  ? (users.data ?? []).map((u) => (
                      <option key={u.id} value={u.id}>
                        {u.email}
                        {u.displayName !== u.email ? ` (${u.displayName})` : ''}
                        {u.disabled ? ' — disabled' : ''}
                      </option>
                    ))
                  : (teams.data ?? []).map((t) => (
                      <option key={t.id} value={t.id}>
                        {t.name}
                      </option>
                    ))}
              </select>
            )}
          </Field>
        ) : (
          <Field
            label={kind === 'user' ? 'User id' : 'Team id'}
            required
            hint={
              can.users
                ? `The ${kind}s could not be loaded: give the ${kind}'s id.`
                : `Your roles do not list ${kind}s: give the ${kind}'s id.`
            }
            error={errorOf('principal')}
          >
            {(c) => (
              <input
                id={c.id}
                aria-required
                className="mono"
                spellCheck={false}
                autoComplete="off"
                placeholder="00000000-0000-4000-8000-000000000000"
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={principal}
                onChange={(e) => setPrincipal(e.target.value)}
              />
            )}
          </Field>
        )}
        <FieldGroup
          legend="Rights"
          error={errorOf('rights')}
          hint="Sharing with someone already listed replaces their rights."
        >
          <div className="checks">
            {SHARE_RIGHTS.map((r) => (
              <label key={r} className="check">
                <input
                  type="checkbox"
                  checked={rights.includes(r)}
                  onChange={(e) => setRights((all) => (e.target.checked ? [...all, r] : all.filter((x) => x !== r)))}
                />
                {PRIVILEGE_LABELS[r]}
              </label>
            ))}
          </div>
        </FieldGroup>
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onClose}>
            Close
          </button>
          <button type="submit" className="btn btn-primary" disabled={saving}>
            {saving ? 'Sharing…' : 'Save share'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
