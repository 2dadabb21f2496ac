/** @jsxImportSource hono/jsx */
// The JSX source is named here too: Bun 1.4.5 took it from the tsconfig.json of the folder it was
// started in, which a service manager may set anywhere (test/start-elsewhere.e2e.test.ts).
import { raw } from 'hono/html'
import type { Child } from 'hono/jsx'
import type { StatusSnapshot } from '../../app/ledger-status.ts'
import { shownTime as time } from '../../domain/ledger-time.ts'
import { brl } from '../../domain/money.ts'
import { describeMismatch } from '../../domain/reconcile-report.ts'

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 24px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0}header span{opacity:.7}
main{padding:16px 24px;display:grid;gap:16px}
section{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:12px 16px}
h2{font-size:15px;margin:0 0 10px}
.flow{display:flex;align-items:center;flex-wrap:wrap;gap:6px}
.arrow{color:#8a93a6;font-size:22px}
.box{border:2px solid #5b7bd5;border-radius:8px;padding:8px 14px;min-width:110px;text-align:center;background:#f3f6ff}
.box .count{font-size:26px;font-weight:700}.box .label{font-size:12px;color:#4a5368}
.box.good{border-color:#2e9e5b;background:#effaf3}.box.bad{border-color:#d64545;background:#fff1f1}
.box.quiet{border-color:#c5cad6;background:#fafbfc}
.side{display:flex;gap:6px;margin-top:8px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f4}
th{font-size:12px;color:#4a5368}.ok{color:#2e9e5b;font-weight:700}.no{color:#d64545;font-weight:700}
.notice{background:#fff8e1;border-color:#e6c44d}
button{cursor:pointer;border:1px solid #5b7bd5;background:#fff;border-radius:4px;padding:2px 10px}
`

function Box(props: { stage: string; label: string; n: number; tone?: 'good' | 'bad' | 'quiet' }) {
  return (
    <div class={`box ${props.tone ?? ''}`} data-stage={props.stage}>
      <div class="count">{props.n}</div>
      <div class="label">{props.label}</div>
    </div>
  )
}

const Arrow = () => <span class="arrow">→</span>

function Table(props: { rows: Record<string, string | number | null>[]; empty: string }) {
  const first = props.rows[0]
  if (!first) return <p>{props.empty}</p>
  const columns = Object.keys(first)
  return (
    <table>
      <thead>
        <tr>
          {columns.map((c) => (
            <th>{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr>
            {columns.map((c) => (
              <td>{r[c]}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/**
 * The status page: the flow as boxes with live counts, Stripe forwarding, the reconciliation of the
 * last days, recent invoice runs, and everything dead with its reason and (when `replayable`) a
 * replay button posting to `{basePath}/api/replay/<kind>/<id>`. Reloads itself every 15 s.
 */
export function StatusPage(props: {
  snapshot: StatusSnapshot
  basePath: string
  replayable: boolean
  notice?: string
}): Child {
  const { snapshot: s, basePath } = props
  const f = s.flow
  const r = s.reconciliation
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content="15" />
        <title>paybridge status</title>
        <style>{raw(STYLE)}</style>
      </head>
      <body>
        <header>
          <h1>paybridge</h1>
          <span>status at {time(s.at)}</span>
        </header>
        <main>
          {props.notice ? <section class="notice">{props.notice}</section> : null}
          <section id="stark-flow">
            <h2>Stark Bank: invoices to transfers</h2>
            <div class="flow">
              <Box stage="issued" label="invoices issued" n={f.issued} />
              <Arrow />
              <Box stage="credited" label="credited" n={f.credited} />
              <Arrow />
              <Box stage="queued" label="transfers queued" n={f.queued} />
              <Arrow />
              <Box stage="created" label="created at Stark Bank" n={f.created} />
              <Arrow />
              <Box stage="confirmed" label="confirmed" n={f.confirmed} tone="good" />
            </div>
            <div class="side">
              <Box stage="pending" label="waiting in outbox" n={f.pending} tone="quiet" />
              <Box stage="held" label="held for approval" n={f.held} tone="quiet" />
              <Box
                stage="failed"
                label="failed at Stark Bank"
                n={f.failed}
                tone={f.failed ? 'bad' : 'quiet'}
              />
              <Box stage="dead" label="dead transfers" n={f.dead} tone={f.dead ? 'bad' : 'quiet'} />
            </div>
          </section>
          <section id="stripe-flow">
            <h2>Stripe: events to the processing service</h2>
            {s.stripe ? (
              <div class="flow">
                <Box stage="stripe-received" label="received" n={s.stripe.received} />
                <Arrow />
                <Box stage="stripe-delivered" label="delivered" n={s.stripe.delivered} tone="good" />
                <Box stage="stripe-pending" label="retrying" n={s.stripe.pending} tone="quiet" />
                <Box
                  stage="stripe-dead"
                  label="dead"
                  n={s.stripe.dead}
                  tone={s.stripe.dead ? 'bad' : 'quiet'}
                />
              </div>
            ) : (
              <p>No Stripe forwarding in this ledger.</p>
            )}
          </section>
          <section id="reconciliation">
            <h2>
              Reconciliation since {r.from}:{' '}
              {r.ok ? (
                <span class="ok">balanced</span>
              ) : (
                <span class="no">{r.mismatches.length} mismatch(es)</span>
              )}
            </h2>
            <Table
              empty="No credited invoices in these days."
              rows={r.days.map((d) => ({
                day: d.day,
                invoices: d.invoices,
                'credited (amount − fee)': brl(d.credited),
                'transfers created': brl(d.transfersCreated),
                confirmed: brl(d.transfersConfirmed),
                pending: brl(d.pending),
                held: brl(d.held),
                ok: d.ok ? 'yes' : 'NO',
              }))}
            />
            {r.mismatches.length > 0 ? (
              <ul>
                {r.mismatches.map((m) => (
                  <li class="mismatch">{describeMismatch(m)}</li>
                ))}
              </ul>
            ) : null}
          </section>
          <section id="runs">
            <h2>Recent invoice runs</h2>
            <Table rows={s.runs} empty="No runs yet." />
          </section>
          <section id="dead">
            <h2>Dead ({s.dead.length})</h2>
            {props.replayable && s.dead.some((d) => d.kind === 'transfer') ? (
              // The same step as `ledger transfers replay --dead`: each keeps its externalId.
              <form method="post" action={`${basePath}/api/replay/transfers/dead`}>
                <button type="submit">replay all dead transfers</button>
              </form>
            ) : null}
            {s.dead.length === 0 ? (
              <p>Nothing dead.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>kind</th>
                    <th>id</th>
                    <th>where</th>
                    <th>reason</th>
                    <th>at</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {s.dead.map((d) => (
                    <tr class="dead-item" data-kind={d.kind}>
                      <td>{d.kind}</td>
                      <td>{d.id}</td>
                      <td>{d.where}</td>
                      <td>{d.reason}</td>
                      <td>{time(d.at)}</td>
                      <td>
                        {props.replayable ? (
                          <form
                            method="post"
                            action={`${basePath}/api/replay/${d.kind}/${encodeURIComponent(d.id)}`}
                          >
                            <button type="submit">replay</button>
                          </form>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </main>
      </body>
    </html>
  )
}
