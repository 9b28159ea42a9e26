/** The header's account corner: who is signed in, their API keys, and signing out. */
import { useState } from 'react';
import { Link, navigate } from '../router.tsx';
import { useMe, useSession } from './session.tsx';

export function AccountMenu() {
  const me = useMe();
  const { signOut } = useSession();
  const [busy, setBusy] = useState(false);
  const name = me.user?.displayName ?? me.principal.id;
  return (
    <div className="account">
      <span className="account-name" title={me.user?.email}>
        <span className="visually-hidden">Signed in as </span>
        {name}
      </span>
      <Link to="/security/api-keys" className="account-link">
        API keys
      </Link>
      <button
        type="button"
        className="btn btn-small"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          // the next user starts from the start page, not from this user's
          void signOut().then(() => navigate('/'));
        }}
      >
        Sign out
      </button>
    </div>
  );
}
