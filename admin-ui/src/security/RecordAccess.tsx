/**
 * Why the signed-in user can or cannot read, change, delete, link, assign and share one record
 * (GET /api/security/explain): per privilege allowed or denied and the reason (a role's level,
 * its row rules, a share), and the record's secured fields hidden from them or read-only.
 */
import { Dialog } from '../components/dialog.tsx';
import { Badge, Loading, ProblemBanner } from '../components/ui.tsx';
import type { AccessExplanation, EntityDef, EntityPrivilege, Problem } from '../types.ts';
import { PRIVILEGE_LABELS, PRIVILEGES } from './permissions.ts';

export function AccessDialog({
  entity,
  recordLabel,
  access,
  problem,
  onRetry,
  onClose,
}: {
  entity: EntityDef;
  recordLabel: string;
  access: AccessExplanation | undefined;
  problem: Problem | undefined;
  onRetry(): void;
  onClose(): void;
}) {
  const label = (field: string) => entity.fields.find((f) => f.name === field)?.displayName;
  // the privileges the server explains, in the grid's order (any it adds later after them)
  const privileges = access
    ? [
        ...PRIVILEGES.filter((p) => p in access.privileges),
        ...Object.keys(access.privileges).filter((p) => !PRIVILEGES.includes(p as EntityPrivilege)),
      ]
    : [];
  return (
    <Dialog title={`Your access to “${recordLabel}”`} onClose={onClose} wide>
      {problem ? <ProblemBanner problem={problem} onRetry={onRetry} /> : null}
      {!access ? (
        problem ? null : (
          <Loading label="Explaining your access…" />
        )
      ) : (
        <>
          <div className="table-wrap">
            <table className="table access-table" aria-label="Access per privilege">
              <thead>
                <tr>
                  <th scope="col">Privilege</th>
                  <th scope="col">Access</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {privileges.map((p) => {
                  const e = access.privileges[p]!;
                  return (
                    <tr key={p}>
                      <th scope="row">{PRIVILEGE_LABELS[p as EntityPrivilege] ?? p}</th>
                      <td>
                        <Badge tone={e.allowed ? 'ok' : 'warn'}>{e.allowed ? 'allowed' : 'denied'}</Badge>
                      </td>
                      <td className="small">
                        {e.reason}
                        {e.share ? (
                          <>
                            {' '}
                            <Badge tone="info">share</Badge>
                          </>
                        ) : null}
                        {e.rule ? (
                          <>
                            {' '}
                            <Badge tone="info">row rule</Badge>
                          </>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <dl className="details access-fields">
            {/* named only to whoever may see the whole model (an administrator asking for someone) */}
            {access.hiddenFields.length ? (
              <div>
                <dt>Hidden fields</dt>
                <dd>
                  {access.hiddenFields.map((f) => (
                    <code key={f} className="access-field">
                      {f}
                    </code>
                  ))}
                </dd>
              </div>
            ) : null}
            <div>
              <dt>Read-only fields</dt>
              <dd>
                {access.readOnlyFields.length ? (
                  access.readOnlyFields.map((f) => (
                    <span key={f} className="access-field">
                      {label(f) ?? f} <code className="muted">{f}</code>
                    </span>
                  ))
                ) : (
                  <span className="muted">None: your roles may change every field you see.</span>
                )}
              </dd>
            </div>
          </dl>
        </>
      )}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
