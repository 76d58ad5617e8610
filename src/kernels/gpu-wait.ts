// Waiting for the GPU without taking a core from it.
//
// Under Node, Dawn's bindings (npm `webgpu`) settle a pending promise — mapAsync,
// onSubmittedWorkDone, popErrorScope — by ticking the device from a loop of
// setImmediate callbacks on the JavaScript thread, for as long as any such promise is
// pending. That loop never sleeps: while a training step runs, it keeps one core busy
// asking whether the step is done. On a CPU driver (lavapipe, SwiftShader) the step's
// compute threads need those cores; on the 2-core machines of docs/PERFORMANCE.md the
// loop made a width-1/8 training step take about 1.7× as long.
//
// So every wait of ours goes through `gpuWait`: while at least one is pending, the
// global setImmediate the loop looks up on each tick is replaced by one that, once the
// wait has lasted SPIN_MS, defers by a 1-ms timer instead. Short waits (a small
// readback) still settle within microseconds; long ones poll about a thousand times a
// second instead of as fast as the thread can spin, and settle at most a millisecond
// late. Other code that calls setImmediate during such a wait is deferred the same way.
// That trade is right for an adapter that computes on the CPU and wrong for a real GPU,
// whose steps take milliseconds and lose nothing to a spinning core: openDevice sets
// the policy from the adapter (cpuAdapter), and SER_GPU_SPIN overrides it (1: always
// spin, 0: always throttle). Where there is no setImmediate (a browser, whose event
// loop settles these promises itself) the wait is the promise alone.

/** How long a wait polls at full speed before it switches to timers. */
export const SPIN_MS = 0.5;
/** The timer's delay once it has: Node's shortest. */
const POLL_MS = 1;

type SetImmediate = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;
interface Host {
  setImmediate?: SetImmediate;
  process?: { env?: Record<string, string | undefined> };
}

let pending = 0;
let original: SetImmediate | undefined;
/** When the oldest pending wait began (performance.now()). */
let since = 0;
/** Ticks the loop asked for during throttled waits, full-speed and deferred (for tests). */
export const gpuWaitTicks = { immediate: 0, deferred: 0 };

/** Whether waits are throttled when SER_GPU_SPIN does not say: set per adapter by openDevice. */
let throttleByAdapter = true;

/**
 * Whether an adapter computes on the CPU (lavapipe, SwiftShader, WARP: software
 * architecture, a fallback adapter, or a CPU driver's name), where a spinning wait
 * takes a core from the work it waits for.
 */
export function cpuAdapter(a: { vendor: string; architecture: string; description: string; isFallback: boolean }): boolean {
  return a.isFallback || a.architecture === 'software' || /llvmpipe|lavapipe|swiftshader|warp|software/i.test(`${a.vendor} ${a.description}`);
}

/** Sets whether waits are throttled (openDevice: on CPU adapters); SER_GPU_SPIN still overrides. */
export function setGpuWaitThrottle(on: boolean): void {
  throttleByAdapter = on;
}

/** Whether the next wait will be throttled. */
export function gpuWaitThrottled(): boolean {
  const spin = (globalThis as Host).process?.env?.SER_GPU_SPIN;
  if (typeof (globalThis as Host).setImmediate !== 'function' || spin === '1') return false;
  return spin === '0' || throttleByAdapter;
}

function install(): void {
  const host = globalThis as Host;
  original = host.setImmediate;
  const immediate = original!;
  since = performance.now();
  host.setImmediate = (callback, ...args) => {
    if (performance.now() - since < SPIN_MS) {
      gpuWaitTicks.immediate++;
      return immediate(callback, ...args);
    }
    gpuWaitTicks.deferred++;
    return setTimeout(callback, POLL_MS, ...args);
  };
}

function uninstall(): void {
  (globalThis as Host).setImmediate = original;
  original = undefined;
}

/**
 * Awaits `start()` — a promise that Dawn settles by polling the device — with that
 * polling throttled as the header says (on CPU adapters, or as SER_GPU_SPIN says).
 * Waits may overlap; the global is restored when the last one settles, whether it
 * resolved or threw.
 */
export async function gpuWait<T>(start: () => Promise<T>): Promise<T> {
  if (pending === 0 && !gpuWaitThrottled()) return start();
  if (pending++ === 0) install();
  try {
    return await start();
  } finally {
    if (--pending === 0) uninstall();
  }
}
