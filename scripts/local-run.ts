/**
 * The life of a long local command (`npm run local`, `npm run dashboard:local`): servers
 * started in steps and stopped once, on Ctrl-C (exit 130), SIGTERM (143) or when the
 * command is done. A signal during the start aborts it at its next step and waits for it
 * to stop what it had started, so no process or temporary directory outlives the command.
 */
export interface Stoppable {
  stop(): Promise<void>;
}

export interface LocalRun<T extends Stoppable> {
  /** Starts with the run's abort signal, remembering the start so a signal can wait for it. */
  start(begin: (signal: AbortSignal) => Promise<T>): Promise<T>;
  /** True once stopping has begun (a failing task then is the stop's doing, not a failure). */
  readonly stopping: boolean;
  /** Stops what runs (or is starting), then exits with `code`; later calls do nothing. */
  shutdown(code: number): Promise<void>;
}

export function localRun<T extends Stoppable>(stoppingMessage: string): LocalRun<T> {
  const abort = new AbortController();
  let starting: Promise<T> | undefined;
  let running: T | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${stoppingMessage}\n`);
    abort.abort();
    await starting?.catch(() => undefined);
    await running?.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(130));
  process.on("SIGTERM", () => void shutdown(143));
  return {
    async start(begin) {
      starting = begin(abort.signal);
      running = await starting;
      return running;
    },
    get stopping() {
      return stopping;
    },
    shutdown,
  };
}
