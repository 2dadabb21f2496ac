// A worker thread whose drain takes a moment, saying each stop it is asked for: two stops at once
// must make one drain (test/worker-thread.test.ts).
declare const self: Worker
self.addEventListener('message', (event: MessageEvent<{ type: string }>) => {
  if (event.data.type === 'start') self.postMessage({ type: 'started' })
  if (event.data.type !== 'stop') return
  self.postMessage({ type: 'ports', calls: [['log', 'info', 'stop received', undefined]] })
  setTimeout(() => self.postMessage({ type: 'stopped' }), 50)
})

export {}
