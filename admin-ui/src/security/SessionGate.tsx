/**
 * What stands before the app: the setup page (/setup, open to anyone), the sign-in screen while
 * nobody is signed in, then the app. A session that ends mid-work (a 401) keeps the app mounted
 * and hidden, so that the same user signing in again finds the page and its unsaved input as they
 * left them; another user gets a fresh app.
 */
import type { ReactNode } from 'react';
import { Loading, ProblemBanner } from '../components/ui.tsx';
import { useLocation } from '../router.tsx';
import { SessionProvider, useSession } from './session.tsx';
import { SetupPage } from './SetupPage.tsx';
import { AuthScreen, SignInPage } from './SignInPage.tsx';

export function SessionGate({ children }: { children: ReactNode }) {
  return (
    <SessionProvider>
      <Gate>{children}</Gate>
    </SessionProvider>
  );
}

function Gate({ children }: { children: ReactNode }) {
  const { path } = useLocation();
  const { state, retry } = useSession();
  if (path === '/setup') return <SetupPage />;
  if (state.status === 'checking') return <Loading label="Checking the session…" />;
  if (state.status === 'failed') {
    return (
      <AuthScreen title="The platform did not answer">
        <ProblemBanner problem={state.problem} onRetry={retry} />
      </AuthScreen>
    );
  }
  const me = state.status === 'signed-in' ? state.me : state.previous;
  return (
    <>
      {me ? (
        <div key={me.user?.id ?? me.principal.id} hidden={state.status !== 'signed-in'}>
          {children}
        </div>
      ) : null}
      {state.status === 'signed-out' ? <SignInPage expired={me !== undefined} /> : null}
    </>
  );
}
