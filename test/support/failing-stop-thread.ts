// A worker thread whose drain fails (its ledger would not close), answering as paybridge's entry does
// (src/roles/worker-thread-entry.ts): the failure must reach the log (test/worker-thread.test.ts).
declare const self: Worker
self.addEventListener('message', (event: MessageEvent<{ type: string }>) => {
  if (event.data.type === 'start') self.postMessage({ type: 'started' })
  if (event.data.type === 'stop') self.postMessage({ type: 'stopped', error: 'closing the ledger failed' })
})

export {}
