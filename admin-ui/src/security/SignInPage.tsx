/**
 * The sign-in screen: email and password posted to /api/auth/login, which sets the session
 * cookie; the page the user was on is shown again afterwards (its URL never changed).
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, toProblem } from '../api.ts';
import { Field, ProblemBanner } from '../components/ui.tsx';
import { mapErrors } from '../forms.ts';
import { useTitle } from '../router.tsx';
import type { Problem } from '../types.ts';
import { useSession } from './session.tsx';

/** The centred card of the screens shown before the app: sign-in and setup. */
export function AuthScreen({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="auth-screen">
      <div className="auth-card card">
        <p className="auth-brand">
          <span className="brand-mark" aria-hidden="true">
            x
          </span>
          xrm admin
        </p>
        <h1 className="auth-title">{title}</h1>
        {children}
      </div>
    </main>
  );
}

export function SignInPage({ expired }: { expired: boolean }) {
  useTitle('Sign in');
  const { signIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const [setupRequired, setSetupRequired] = useState(false);
  const { byKey, unmapped } = mapErrors(problem, (path) =>
    path === '/email' || path === '/password' ? path.slice(1) : undefined,
  );

  useEffect(() => {
    // a platform without users yet is set up through the link it printed at start
    api.setupState().then(
      (s) => setSetupRequired(s.required),
      () => undefined,
    );
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setBusy(true);
    try {
      await signIn(email.trim(), password);
    } catch (error) {
      setProblem(toProblem(error));
      setBusy(false);
    }
  };

  return (
    <AuthScreen title="Sign in">
      {expired ? (
        <p className="auth-note" role="status">
          Your session has ended. Sign in again to continue where you were.
        </p>
      ) : null}
      {setupRequired ? (
        <p className="auth-note">
          No user exists yet: open the setup link the server printed when it started (<code>/admin/setup?token=…</code>)
          to create the first administrator.
        </p>
      ) : null}
      <form className="form" onSubmit={submit} noValidate aria-label="Sign in" aria-busy={busy}>
        {problem ? <ProblemBanner problem={problem} errors={unmapped} /> : null}
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
        <Field label="Password" required error={byKey.get('password')}>
          {(c) => (
            <input
              id={c.id}
              type="password"
              autoComplete="current-password"
              required
              aria-describedby={c.describedBy}
              aria-invalid={c.invalid}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
      </form>
    </AuthScreen>
  );
}
