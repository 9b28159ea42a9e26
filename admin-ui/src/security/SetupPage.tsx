/**
 * First start: /admin/setup?token=… (the link the server prints while no user exists) creates the
 * first administrator with the one-time token, and signs them in.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { Field, Loading, ProblemBanner } from '../components/ui.tsx';
import { mapErrors } from '../forms.ts';
import { Link, navigate, useLocation, useTitle } from '../router.tsx';
import type { Problem } from '../types.ts';
import { AuthScreen } from './SignInPage.tsx';
import { useSession } from './session.tsx';

export function SetupPage() {
  useTitle('Set up');
  const { search } = useLocation();
  const token = search.get('token') ?? '';
  const [required, setRequired] = useState<boolean>();
  const [problem, setProblem] = useState<Problem>();

  useEffect(() => {
    api.setupState().then(
      (s) => setRequired(s.required),
      (error) => setProblem(toProblem(error)),
    );
  }, []);

  if (problem) {
    return (
      <AuthScreen title="Set up xrm">
        <ProblemBanner problem={problem} />
      </AuthScreen>
    );
  }
  if (required === undefined) return <Loading label="Checking the platform…" />;
  if (!required) {
    return (
      <AuthScreen title="Already set up">
        <p>This platform already has its administrator: setup is not needed.</p>
        <p>
          <Link to="/" className="btn btn-primary">
            Go to sign-in
          </Link>
        </p>
      </AuthScreen>
    );
  }
  return (
    <AuthScreen title="Set up xrm">
      <SetupForm token={token} />
    </AuthScreen>
  );
}

function SetupForm({ token }: { token: string }) {
  const { adopt } = useSession();
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, (path) =>
    ['/displayName', '/email', '/password'].includes(path) ? path.slice(1) : undefined,
  );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setMismatch(password !== repeat);
    if (password !== repeat) return;
    setBusy(true);
    try {
      await api.setup({ token, email: email.trim(), password, ...(displayName.trim() ? { displayName } : {}) });
      await adopt();
      navigate('/', { replace: true });
    } catch (error) {
      setProblem(toProblem(error));
      setBusy(false);
    }
  };

  return (
    <>
      <p className="auth-note">Create the first administrator. They can then add users, teams and roles.</p>
      {token ? null : (
        <p className="auth-note" role="alert">
          This link has no token: open the setup link the server printed when it started.
        </p>
      )}
      <form className="form" onSubmit={submit} noValidate aria-label="Set up" aria-busy={busy}>
        {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
        <Field label="Display name" error={byKey.get('displayName')}>
          {(c) => (
            <input
              id={c.id}
              autoComplete="name"
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Email" required error={byKey.get('email')}>
          {(c) => (
            <input
              id={c.id}
              type="email"
              autoComplete="username"
              aria-required
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
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
        <Field label="Repeat the password" required error={mismatch ? 'does not match the password' : undefined}>
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
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy || !token}>
            {busy ? 'Setting up…' : 'Create administrator'}
          </button>
        </div>
      </form>
    </>
  );
}
