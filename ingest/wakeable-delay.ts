/**
 * A wait that can be cut short: reconnect backoffs that stop() must not sit out, and waits for the
 * next frame that its arrival ends. One wait at a time; waking with none pending does nothing.
 */
export class WakeableDelay {
  private wakeUp: (() => void) | null = null;

  /** Resolves after `ms`, or at once when woken. */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  wake(): void {
    this.wakeUp?.();
  }
}
