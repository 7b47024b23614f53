import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../helpers/emulator-harness.ts';
import type { Harness } from '../helpers/emulator-harness.ts';

describe('emulator stream management', () => {
  let h: Harness;

  before(async () => {
    h = await startEmulator({ streams: [{ name: 'pre-made', partitions: 1 }] });
  });
  after(() => h.close());

  it('when a stream is created, described, listed and deleted, each answers as DIS does', async () => {
    const created = await h.dis('/streams', {
      body: { stream_name: 'st-lifecycle', partition_count: 3, stream_type: 'ADVANCED' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.text, '');

    const described = await h.dis('/streams/st-lifecycle');
    assert.equal(described.status, 200);
    assert.partialDeepStrictEqual(described.json, {
      stream_name: 'st-lifecycle',
      status: 'RUNNING',
      stream_type: 'ADVANCED',
      data_type: 'BLOB',
      retention_period: 24,
      writable_partition_count: 3,
      readable_partition_count: 3,
      has_more_partitions: false,
      partitions: [
        {
          partition_id: 'shardId-0000000000',
          status: 'ACTIVE',
          hash_range: '[0 : 3074457345618258601]',
          sequence_number_range: '[0 : -1]',
        },
        {
          partition_id: 'shardId-0000000001',
          hash_range: '[3074457345618258602 : 6148914691236517203]',
        },
        {
          partition_id: 'shardId-0000000002',
          hash_range: '[6148914691236517204 : 9223372036854775807]',
        },
      ],
    });

    const listed = await h.dis('/streams?limit=100');
    assert.equal(listed.status, 200);
    assert.partialDeepStrictEqual(listed.json, {
      stream_names: ['pre-made', 'st-lifecycle'],
      has_more_streams: false,
      stream_info_list: [{ stream_name: 'pre-made', partition_count: 1, stream_type: 'COMMON' }],
    });

    assert.equal((await h.dis('/streams/st-lifecycle', { method: 'DELETE' })).status, 204);
    const gone = await h.dis('/streams/st-lifecycle');
    assert.equal(gone.status, 400);
    assert.deepEqual(gone.json, {
      errorCode: 'DIS.4301',
      message: 'The stream does not exist. [st-lifecycle]',
    });
  });

  it('when a one-partition stream is described, its hash range is the whole space', async () => {
    const res = await h.dis('/streams/pre-made/');
    assert.partialDeepStrictEqual(res.json, {
      partitions: [{ hash_range: '[0 : 9223372036854775807]' }],
    });
  });

  it('when a stream name is taken, creation fails with DIS.4307', async () => {
    const res = await h.dis('/streams', { body: { stream_name: 'pre-made', partition_count: 1 } });
    assert.equal(res.status, 400);
    assert.match(res.text, /"errorCode":"DIS.4307"/);
  });

  it('when the create body is invalid, creation fails with DIS.4200 and nothing is created', async () => {
    for (const body of [
      { stream_name: 'bad name!', partition_count: 1 },
      { stream_name: 'st-zero', partition_count: 0 },
      { stream_name: 'st-type', partition_count: 1, stream_type: 'FAST' },
      { partition_count: 1 },
    ]) {
      const res = await h.dis('/streams', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.text, /"errorCode":"DIS.4200"/);
    }
    assert.deepEqual(h.emulator.state.streamNames(), ['pre-made']);
  });

  it('when partitions exceed the per-stream quota, creation fails with DIS.4308', async () => {
    const res = await h.dis('/streams', {
      body: { stream_name: 'st-huge', partition_count: 11, stream_type: 'ADVANCED' },
    });
    assert.match(res.text, /DIS.4308/);
  });

  it('when the body is not JSON or not application/json, creation fails with DIS.4300 (400/415)', async () => {
    const notJson = await h.dis('/streams', { body: '{nope' });
    assert.equal(notJson.status, 400);
    assert.match(notJson.text, /DIS.4300/);
    const protobuf = await h.dis('/streams', {
      body: '{}',
      headers: { 'Content-Type': 'application/x-protobuf; charset=utf-8' },
    });
    assert.equal(protobuf.status, 415);
    assert.match(protobuf.text, /DIS.4300/);
    const withCharset = await h.dis('/streams', {
      body: { stream_name: 'st-charset', partition_count: 1 },
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    assert.equal(withCharset.status, 201);
  });

  it('when streams and partitions are paged, the start names and ids are exclusive', async () => {
    for (const name of ['pg-a', 'pg-b', 'pg-c']) {
      await h.dis('/streams', { body: { stream_name: name, partition_count: 5 } });
    }
    const page = await h.dis('/streams?limit=2&start_stream_name=pg-a');
    assert.partialDeepStrictEqual(page.json, {
      stream_names: ['pg-b', 'pg-c'],
      has_more_streams: true,
    });
    const parts = await h.dis(
      '/streams/pg-a?start_partitionId=shardId-0000000001&limit_partitions=2',
    );
    assert.partialDeepStrictEqual(parts.json, {
      has_more_partitions: true,
      partitions: [{ partition_id: 'shardId-0000000002' }, { partition_id: 'shardId-0000000003' }],
    });
    const bad = await h.dis('/streams?limit=0');
    assert.match(bad.text, /DIS.4200/);
  });
});
