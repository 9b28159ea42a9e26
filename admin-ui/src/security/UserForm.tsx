/**
 * A user's form: a new user (email, password) or an existing one's changes, with their roles,
 * teams and attributes. Edits send only what changed (PATCH /api/users/{id}).
 */
import { useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { useOverlays } from '../components/overlays.tsx';
import { Field, ProblemBanner } from '../components/ui.tsx';
import { mapErrors } from '../forms.ts';
import type { Problem, Role, Team, UserAccount, UserChange } from '../types.ts';
import { AttributesField, attributesText, NameChecks, parseAttributes } from './controls.tsx';

const sameNames = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** Where a problem's `errors[].path` lands: the form control its first segment names. */
const keyOf = (path: string) => {
  const key = path.split('/')[1] ?? '';
  return ['email', 'displayName', 'password', 'roles', 'teams', 'attributes'].includes(key) ? key : undefined;
};

export function UserForm({
  user,
  roles,
  teams,
  onSaved,
  onCancel,
}: {
  /** Absent: a new user. */
  user?: UserAccount;
  /** Absent while they could not be loaded. */
  roles: Role[] | undefined;
  teams: Team[] | undefined;
  onSaved(user: UserAccount): void;
  onCancel(): void;
}) {
  const { toast } = useOverlays();
  const [email, setEmail] = useState(user?.email ?? '');
  const [displayName, setDisplayName] = useState(user?.displayName ?? '');
  const [password, setPassword] = useState('');
  const [userRoles, setUserRoles] = useState<string[]>(user?.roles ?? []);
  const [userTeams, setUserTeams] = useState<string[]>(user?.teams ?? []);
  const [attributes, setAttributes] = useState(attributesText(user?.attributes));
  const [attributesError, setAttributesError] = useState<string>();
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, keyOf);
  const title = user ? `Edit ${user.displayName}` : 'New user';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    const parsed = parseAttributes(attributes);
    setAttributesError(parsed.ok ? undefined : parsed.message);
    if (!parsed.ok) return;
    setSaving(true);
    try {
      let saved: UserAccount;
      if (user) {
        const change: UserChange = {};
        if (displayName !== user.displayName) change.displayName = displayName;
        if (!sameNames(userRoles, user.roles)) change.roles = userRoles;
        if (!sameNames(userTeams, user.teams)) change.teams = userTeams;
        if (JSON.stringify(parsed.value) !== JSON.stringify(user.attributes)) change.attributes = parsed.value;
        saved = Object.keys(change).length ? await api.updateUser(user.id, change) : user;
      } else {
        saved = await api.createUser({
          email: email.trim(),
          password,
          ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
          ...(userRoles.length ? { roles: userRoles } : {}),
          ...(userTeams.length ? { teams: userTeams } : {}),
          ...(Object.keys(parsed.value).length ? { attributes: parsed.value } : {}),
        });
      }
      toast(user ? `User “${saved.displayName}” saved` : `User “${saved.displayName}” created`);
      onSaved(saved);
    } catch (error) {
      setProblem(toProblem(error));
      setSaving(false);
    }
  };

  return (
    <form className="form card" onSubmit={submit} noValidate aria-label={title} aria-busy={saving}>
      <h2 className="card-title">{title}</h2>
      {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
      <div className="form-grid">
        {user ? null : (
          <Field label="Email" required error={byKey.get('email')}>
            {(c) => (
              <input
                id={c.id}
                type="email"
                autoComplete="off"
                aria-required
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
            )}
          </Field>
        )}
        <Field label="Display name" hint={user ? undefined : 'Empty: the email.'} error={byKey.get('displayName')}>
          {(c) => (
            <input
              id={c.id}
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
            />
          )}
        </Field>
        {user ? null : (
          <Field label="Password" required hint="At least 12 characters." error={byKey.get('password')}>
            {(c) => (
              <input
                id={c.id}
                type="password"
                autoComplete="new-password"
                required
                aria-describedby={c.describedBy}
                aria-invalid={c.invalid}
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            )}
          </Field>
        )}
        <NameChecks
          legend="Roles"
          options={(roles ?? []).map((r) => ({ value: r.name, label: r.name }))}
          value={userRoles}
          onChange={setUserRoles}
          error={byKey.get('roles')}
          empty={roles ? 'No roles yet.' : 'The roles could not be loaded.'}
        />
        <NameChecks
          legend="Teams"
          options={(teams ?? []).map((t) => ({ value: t.name, label: t.name }))}
          value={userTeams}
          onChange={setUserTeams}
          error={byKey.get('teams')}
          empty={teams ? 'No teams yet.' : 'The teams could not be loaded.'}
        />
        <AttributesField
          value={attributes}
          onChange={setAttributes}
          error={attributesError ? [attributesError] : byKey.get('attributes')}
        />
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={saving}>
          {user ? 'Save user' : 'Create user'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** A new password for a user, typed twice; their sessions signed in before it stop working. */
export function PasswordForm({ user, onDone }: { user: UserAccount; onDone(): void }) {
  const { toast } = useOverlays();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const [saving, setSaving] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, (path) => (path === '/password' ? 'password' : undefined));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setMismatch(password !== repeat);
    if (password !== repeat) return;
    setSaving(true);
    try {
      await api.updateUser(user.id, { password });
      toast(`New password set for “${user.displayName}”`);
      onDone();
    } catch (error) {
      setProblem(toProblem(error));
      setSaving(false);
    }
  };

  return (
    <form
      className="form card"
      onSubmit={submit}
      noValidate
      aria-label={`New password for ${user.displayName}`}
      aria-busy={saving}
    >
      <h2 className="card-title">New password for {user.displayName}</h2>
      <p className="muted small">Their sessions signed in before the change stop working.</p>
      {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
      <div className="form-grid">
        <Field label="New password" required hint="At least 12 characters." error={byKey.get('password')}>
          {(c) => (
            <input
              id={c.id}
              type="password"
              autoComplete="new-password"
              required
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <Field label="Repeat the new password" required error={mismatch ? 'does not match the password' : undefined}>
          {(c) => (
            <input
              id={c.id}
              type="password"
              autoComplete="new-password"
              required
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
            />
          )}
        </Field>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={saving}>
          Set password
        </button>
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}
