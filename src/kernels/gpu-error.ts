// The one exception type of the GPU runtime: validation errors, memory exhaustion,
// internal errors and device loss, caught at the next sync and named.

/** A GPU error, uncaptured validation error or device loss, turned into an exception. */
export class GpuError extends Error {
  constructor(message: string, readonly kind: 'validation' | 'out-of-memory' | 'internal' | 'device-lost' | 'no-adapter') {
    super(message);
    this.name = 'GpuError';
  }
}
