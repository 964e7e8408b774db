/**
 * Entry point of an agent subprocess. argv[2] is the URL of the runner module. Receives `run`
 * requests over IPC, one at a time, and answers with the runner's result and how long after the
 * orchestrator's request the prompt was in hand here.
 */
import { sharedClockMs, type AgentRunner, type WorkerReply, type WorkerRequest } from './runner.js';

const send = (reply: WorkerReply): void => {
  process.send?.(reply);
};

const runnerUrl = process.argv[2];
if (runnerUrl === undefined || process.send === undefined) {
  console.error('agent-worker: start me with fork(worker, [runnerModuleUrl])');
  process.exit(2);
}
const loaded = (await import(runnerUrl)) as { default?: AgentRunner };
const runner = loaded.default;
if (typeof runner?.run !== 'function') {
  console.error(`agent-worker: ${runnerUrl} has no default export with a run() method`);
  process.exit(2);
}

process.on('message', (request: WorkerRequest) => {
  const promptReadyMs = sharedClockMs() - request.requestedAt;
  send({ type: 'accepted', id: request.id });
  const started = performance.now();
  Promise.resolve()
    .then(() => runner.run(request.input))
    .then(
      (result) => {
        send({ type: 'result', id: request.id, promptReadyMs, runMs: performance.now() - started, result });
      },
      (error: unknown) => {
        send({ type: 'error', id: request.id, message: error instanceof Error ? error.message : String(error) });
      },
    );
});
// Leave when the orchestrator goes away, rather than linger as an orphan, taking along what the
// runner started (this process leads its own group).
process.on('disconnect', () => {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.exit(0);
  }
});
send({ type: 'ready' });
