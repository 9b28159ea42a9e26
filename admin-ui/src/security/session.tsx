/**
 * The session: who is signed in (GET /api/auth/me, read once after sign-in) and what they may do.
 * The session itself is the httpOnly cookie the server sets on sign-in; the page never sees it.
 * Any 401 from the API ends the session here, and the gate shows the sign-in screen.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, api, onUnauthorized, toProblem } from '../api.ts';
import type { Me, Problem } from '../types.ts';
import { permissionsOf, type Permissions } from './permissions.ts';

export type SessionState =
  | { status: 'checking' }
  /** The server could not say who we are (not a 401: down, unreachable). */
  | { status: 'failed'; problem: Problem }
  /** `previous`: who was signed in until a request answered 401 (their pages stay mounted, hidden). */
  | { status: 'signed-out'; previous?: Me }
  | { status: 'signed-in'; me: Me };

interface Session {
  state: SessionState;
  /** Reads the caller after the server set the session cookie (sign-in, setup). */
  adopt(): Promise<void>;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  retry(): void;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'checking' });

  const adopt = useCallback(async () => {
    try {
      const me = await api.me();
      setState(me.user ? { status: 'signed-in', me } : { status: 'signed-out' });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setState({ status: 'signed-out' });
      else setState({ status: 'failed', problem: toProblem(error) });
    }
  }, []);

  useEffect(() => {
    void adopt();
  }, [adopt]);

  useEffect(
    () =>
      onUnauthorized(() => setState((s) => (s.status === 'signed-in' ? { status: 'signed-out', previous: s.me } : s))),
    [],
  );

  const value = useMemo<Session>(
    () => ({
      state,
      adopt,
      signIn: async (email, password) => {
        await api.login(email, password);
        await adopt();
      },
      signOut: async () => {
        // the screen signs out even when the request fails (the cookie then ends at its expiry)
        await api.logout().catch(() => undefined);
        setState({ status: 'signed-out' });
      },
      retry: () => {
        setState({ status: 'checking' });
        void adopt();
      },
    }),
    [state, adopt],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in caller (pages render only once there is one). */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status === 'signed-in') return state.me;
  if (state.status === 'signed-out' && state.previous) return state.previous;
  throw new Error('useMe without a signed-in user');
}

/** What the signed-in user may do. */
export function useCan(): Permissions {
  const me = useMe();
  return useMemo(() => permissionsOf(me), [me]);
}
