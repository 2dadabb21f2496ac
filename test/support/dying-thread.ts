import { forwardingPorts } from '../../src/adapters/thread/forwarded-ports.ts'

// A worker thread that starts as paybridge's does and then dies of an uncaught error right after
// logging why: what `workerThreadRoles` must notice, with that last line in the process's log
// (test/worker-thread.test.ts).
declare const self: Worker
const ports = forwardingPorts((calls) => self.postMessage({ type: 'ports', calls }), 'debug')
self.addEventListener('message', (event: MessageEvent<{ type: string }>) => {
  if (event.data.type !== 'start') return
  self.postMessage({ type: 'started' })
  setTimeout(() => {
    ports.log.child({ thread: 'worker' }).error('about to fail')
    ports.metrics.consumerInfrastructureFailure('stark-events')
    throw new Error('the worker thread hit a bug')
  }, 50)
})
