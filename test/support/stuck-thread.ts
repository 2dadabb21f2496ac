// A worker thread that starts and then never returns to its event loop (a bug that spins): a stop
// must still end it (test/worker-thread.test.ts).
declare const self: Worker
self.addEventListener('message', (event: MessageEvent<{ type: string }>) => {
  if (event.data.type !== 'start') return
  self.postMessage({ type: 'started' })
  setTimeout(() => {
    for (;;) {}
  }, 20)
})

export {}
