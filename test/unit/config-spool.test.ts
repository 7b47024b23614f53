import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, type LoadConfigResult } from '../../src/config/load-config.ts';

function load(yaml: string | undefined): LoadConfigResult {
  if (yaml === undefined) return loadConfig({}, () => assert.fail('no file expected'));
  return loadConfig({ GATEWAY_CONFIG: '/c.yaml' }, (path) => {
    assert.equal(path, '/c.yaml');
    return yaml;
  });
}

describe('config: spool section', () => {
  it('without a spool section, the documented defaults apply', () => {
    const result = load(undefined);
    if (!result.ok) assert.fail(result.problems.join('\n'));
    assert.deepEqual(result.config.spool, {
      maxEntries: 100_000,
      batchSize: 200,
      blockMs: 1_000,
      claimIdleMs: 30_000,
      retryInitialMs: 200,
      retryMaxMs: 30_000,
      putTimeoutMs: 10_000,
      receiptTtlS: 86_400,
      deadLetterMaxEntries: 100_000,
      minReplicaAcks: 'auto',
      replicaAckTimeoutMs: 500,
    });
  });

  it('snake_case file settings become the camelCase config', () => {
    const result = load(`
spool:
  max_entries: 5000
  batch_size: 500
  block_ms: 250
  claim_idle_ms: 60000
  retry_initial_ms: 100
  retry_max_ms: 5000
  put_timeout_ms: 20000
  receipt_ttl_s: 3600
  dead_letter_max_entries: 42
  min_replica_acks: 2
  replica_ack_timeout_ms: 150
`);
    if (!result.ok) assert.fail(result.problems.join('\n'));
    assert.deepEqual(result.config.spool, {
      maxEntries: 5000,
      batchSize: 500,
      blockMs: 250,
      claimIdleMs: 60_000,
      retryInitialMs: 100,
      retryMaxMs: 5000,
      putTimeoutMs: 20_000,
      receiptTtlS: 3600,
      deadLetterMaxEntries: 42,
      minReplicaAcks: 2,
      replicaAckTimeoutMs: 150,
    });
  });

  it('a batch above DIS’s 500 records, a zero size and an unknown key are each reported with their path', () => {
    const result = load('spool: { batch_size: 501, max_entries: 0, maxentries: 3 }');
    assert.equal(result.ok, false);
    assert.deepEqual(result.problems, [
      'spool.max_entries: must be at least 1',
      'spool.batch_size: must be at most 500',
      'spool.maxentries: unknown key',
    ]);
  });

  it('a claim idle time not above the PutRecords deadline plus one DIS request’s bound, and a backoff that starts above its cap, are refused', () => {
    // 5000 + 1000 + 2 × 4000 = 14000: a claim after 14 s would take a batch still in flight.
    const result = load(
      'spool: { claim_idle_ms: 14000, put_timeout_ms: 5000, retry_initial_ms: 2000, retry_max_ms: 1000 }\ndis: { request_timeout_ms: 4000, connect_timeout_ms: 1000 }',
    );
    assert.equal(result.ok, false);
    assert.deepEqual(result.problems, [
      'spool.retry_initial_ms: must not exceed spool.retry_max_ms',
      'spool.claim_idle_ms: must be above spool.put_timeout_ms + dis.connect_timeout_ms + 2 × dis.request_timeout_ms (a batch in flight at its deadline still waits for its DIS request)',
    ]);
  });

  it('min_replica_acks is auto or a count; anything else is refused with the choices', () => {
    const result = load('spool: { min_replica_acks: some, replica_ack_timeout_ms: 0 }');
    assert.equal(result.ok, false);
    assert.deepEqual(result.problems, [
      'spool.min_replica_acks: must be auto or a whole number of replicas (0 to 16)',
      'spool.replica_ack_timeout_ms: must be at least 1',
    ]);
  });
});
