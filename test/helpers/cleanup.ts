/** Registers cleanup work on a test (node:test's TestContext has it). */
export interface Cleanup {
  after(fn: () => unknown): void;
}
