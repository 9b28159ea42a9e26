/**
 * The relationship on a tracked record's page: its strength as of now (the score, its health
 * band, each factor with its contribution, the formula, cadence and inputs, from GET …/signals)
 * and its timeline, where an activity can be logged (both are read again after it).
 */
import { useCallback, useId, useState } from 'react';
import { Loading, ProblemBanner } from '../components/ui.tsx';
import { Temporal } from '../dates.tsx';
import { useCan } from '../security/session.tsx';
import { useResource } from '../security/use-resource.ts';
import type { EntityDef } from '../types.ts';
import { relationshipsApi } from './api.ts';
import { LogActivityDialog } from './LogActivityDialog.tsx';
import { HealthBadge } from './parts.tsx';
import { Timeline } from './Timeline.tsx';
import type { Factor, SignalInputs, Signals } from './types.ts';

const FACTOR_LABELS: Readonly<Record<Factor, string>> = {
  recency: 'Recency',
  frequency: 'Frequency',
  reciprocity: 'Reciprocity',
  depth: 'Depth',
};
const FACTORS = Object.keys(FACTOR_LABELS) as Factor[];

const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const oneDecimal = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function RecordRelationship({
  entity,
  recordId,
  recordLabel,
  onChanged,
}: {
  entity: EntityDef;
  recordId: string;
  recordLabel: string;
  /** The record's signal fields changed: read it again. */
  onChanged(): void;
}) {
  const id = useId();
  const can = useCan();
  const signals = useResource(
    useCallback(() => relationshipsApi.signals(entity.name, recordId), [entity.name, recordId]),
  );
  const [version, setVersion] = useState(0);
  const [logging, setLogging] = useState(false);

  const logged = () => {
    setVersion((v) => v + 1);
    void signals.reload();
    onChanged();
  };

  return (
    <div className="rel-record">
      <section className="card rel-signals" aria-labelledby={`${id}-signals`}>
        <h2 className="card-title" id={`${id}-signals`}>
          Relationship
        </h2>
        {signals.problem ? (
          <ProblemBanner problem={signals.problem} onRetry={() => void signals.reload()} />
        ) : signals.data ? (
          <SignalsView signals={signals.data} />
        ) : (
          <Loading label="Computing the relationship…" />
        )}
      </section>
      <section className="card rel-timeline" aria-labelledby={`${id}-timeline`}>
        <div className="rel-card-head">
          <h2 className="card-title" id={`${id}-timeline`}>
            Timeline
          </h2>
          {can.allows('activity', 'create') ? (
            <button type="button" className="btn btn-small" onClick={() => setLogging(true)}>
              Log activity
            </button>
          ) : null}
        </div>
        {/* a logged activity reads the timeline again */}
        <Timeline key={version} entity={entity.name} id={recordId} />
      </section>
      {logging ? (
        <LogActivityDialog
          regarding={{ entity: entity.name, id: recordId }}
          recordLabel={recordLabel}
          onLogged={logged}
          onClose={() => setLogging(false)}
        />
      ) : null}
    </div>
  );
}

function SignalsView({ signals: s }: { signals: Signals }) {
  return (
    <>
      <div className="rel-score-row">
        <p className="rel-score" title="Relationship strength, 0–100">
          <span className="rel-score-value">{s.score}</span>
          <span className="muted small"> / 100</span>
        </p>
        <HealthBadge health={s.health} />
      </div>
      <table className="table table-compact rel-factors" aria-label="Factors">
        <thead>
          <tr>
            <th scope="col">Factor</th>
            <th scope="col">Value</th>
            <th scope="col" className="num">
              Weight
            </th>
            <th scope="col" className="num">
              Points
            </th>
          </tr>
        </thead>
        <tbody>
          {FACTORS.map((f) => (
            <tr key={f}>
              <th scope="row">{FACTOR_LABELS[f]}</th>
              <td>
                <span className="rel-bar" aria-hidden="true">
                  <span className="rel-bar-fill" style={{ width: `${Math.round(s.factors[f] * 100)}%` }} />
                </span>
                <span className="small"> {decimal.format(s.factors[f])}</span>
              </td>
              <td className="num">{decimal.format(s.weights[f])}</td>
              <td className="num">{oneDecimal.format(s.contributions[f])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="rel-formula">
        <code>{s.formula}</code>
      </p>
      <dl className="details rel-inputs">
        <div>
          <dt>Cadence</dt>
          <dd>
            every {decimal.format(s.cadenceDays)} day{s.cadenceDays === 1 ? '' : 's'}
          </dd>
        </div>
        <InputsList inputs={s.inputs} />
        <div>
          <dt>As of</dt>
          <dd>
            <Temporal kind="datetime" value={s.asOf} />
          </dd>
        </div>
      </dl>
    </>
  );
}

function InputsList({ inputs: i }: { inputs: SignalInputs }) {
  const rows: [string, string][] = [
    [
      'Since the last two-way contact',
      i.daysSinceLastTwoWay === null ? 'never' : `${oneDecimal.format(i.daysSinceLastTwoWay)} days`,
    ],
    ['Two-way interactions (90 days)', String(i.twoWay90d)],
    ['Inbound (90 days)', String(i.inbound90d)],
    ['Outbound (90 days)', String(i.outbound90d)],
    ['Depth', decimal.format(i.depthSum)],
  ];
  return (
    <>
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </>
  );
}
