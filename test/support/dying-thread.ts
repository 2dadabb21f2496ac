// A worker thread that starts as paybridge's does and then dies of an uncaught error: what
// `startWorkerThread` must notice (test/worker-thread.test.ts).
declare const self: Worker
self.addEventListener('message', (event: MessageEvent<{ type: string }>) => {
  if (event.data.type !== 'start') return
  self.postMessage({ type: 'ports', calls: [['log', 'info', 'about to fail', { thread: 'worker' }]] })
  self.postMessage({ type: 'started' })
  setTimeout(() => {
    throw new Error('the worker thread hit a bug')
  }, 50)
})
