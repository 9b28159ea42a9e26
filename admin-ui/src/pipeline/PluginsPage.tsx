/**
 * The plugins the platform runs: their steps (stage, message, entity, rank) and custom messages,
 * with a switch to turn each off and on at once. Built-in plugins cannot be turned off.
 */
import { useCallback, useEffect, useState } from 'react';
import { api, toProblem } from '../api.ts';
import { useOverlays } from '../components/overlays.tsx';
import { Badge, EmptyState, Loading, PageHeader, ProblemBanner, TableHead } from '../components/ui.tsx';
import { useTitle } from '../router.tsx';
import type { PluginInfo, Problem } from '../types.ts';

export function PluginsPage() {
  useTitle('Plugins');
  const { toast } = useOverlays();
  const [plugins, setPlugins] = useState<PluginInfo[]>();
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState<string>();

  const load = useCallback(async () => {
    try {
      setPlugins(await api.plugins());
      setProblem(undefined);
    } catch (error) {
      setProblem(toProblem(error));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const toggle = async (plugin: PluginInfo, enabled: boolean) => {
    setBusy(plugin.name);
    setProblem(undefined);
    try {
      const updated = await api.setPluginEnabled(plugin.name, enabled);
      setPlugins((list) => list?.map((p) => (p.name === updated.name ? updated : p)));
      toast(`Plugin “${plugin.name}” ${enabled ? 'enabled' : 'disabled'}`);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <>
      <PageHeader title="Plugins" subtitle="Steps that run on every write, and the custom messages plugins define." />
      {problem ? <ProblemBanner problem={problem} onRetry={plugins ? undefined : () => void load()} /> : null}
      {!plugins ? (
        problem ? null : (
          <Loading label="Loading the plugins…" />
        )
      ) : plugins.length === 0 ? (
        <EmptyState title="No plugins registered" />
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Plugins">
            <TableHead columns={['Plugin', 'Version', 'Enabled', 'Steps', 'Messages']} />
            <tbody>
              {plugins.map((p) => (
                <tr key={p.name}>
                  <td>
                    <span className="strong">{p.name}</span> {p.builtIn ? <Badge tone="info">built-in</Badge> : null}
                    {p.description ? <div className="muted small">{p.description}</div> : null}
                  </td>
                  <td>{p.version ? <code>{p.version}</code> : <span className="muted">—</span>}</td>
                  <td>
                    <label className="check">
                      <input
                        type="checkbox"
                        role="switch"
                        checked={p.enabled}
                        aria-checked={p.enabled}
                        disabled={p.builtIn || busy === p.name}
                        title={p.builtIn ? 'Built-in plugins cannot be turned off' : undefined}
                        onChange={(e) => void toggle(p, e.target.checked)}
                      />
                      <span className="visually-hidden">Enable plugin {p.name}</span>
                      <span aria-hidden="true">{p.enabled ? 'On' : 'Off'}</span>
                    </label>
                  </td>
                  <td className="small">
                    {p.steps.length ? (
                      <ul className="plain-list">
                        {p.steps.map((s, i) => (
                          <li key={i}>
                            <code>{s.stage}</code> {s.message} on <code>{s.entity}</code>
                            {s.rank === undefined ? '' : ` (${s.rank})`}
                            {s.fields?.length ? <span className="muted"> · fields {s.fields.join(', ')}</span> : null}
                          </li>
                        ))}
                      </ul>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td className="small">
                    {p.messages.length ? (
                      <ul className="plain-list">
                        {p.messages.map((m) => (
                          <li key={m}>
                            <code>{m}</code>
                          </li>
                        ))}
                      </ul>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
