import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  create,
  createFileRegistry,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type JsonObject,
} from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';
import {
  decodePutRecordsRequest,
  decodePutRecordsResult,
  encodePutRecordsRequest,
  encodePutRecordsResult,
  type DecodedPutRecords,
  type DecodedPutRecordsResult,
  type EncodablePutRecordsEntry,
  type EncodablePutRecordsResultEntry,
} from '../../src/dis/protobuf.ts';

// The hand-written codec against @bufbuild/protobuf (which passes the protobuf conformance suite),
// on the schema of java-dis message.proto, built at runtime. Both sides are compared in the
// proto JSON mapping (bytes as Base64, int64 as a decimal string), and byte for byte where both
// encode, since both write fields in field-number order.

const field = (
  name: string,
  number: number,
  type: Type,
  typeName?: string,
  label = Label.OPTIONAL,
) => ({
  name,
  jsonName: name, // protoc fills it in; toJson needs it
  number,
  type,
  label,
  ...(typeName === undefined ? {} : { typeName }),
});

const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'dis/message.proto',
    package: 'dis',
    syntax: 'proto2',
    messageType: [
      {
        name: 'PutRecordsRequest',
        field: [
          field('streamName', 1, Type.STRING),
          field('records', 2, Type.MESSAGE, '.dis.PutRecordsRequestEntry', Label.REPEATED),
          field('streamId', 30, Type.STRING),
        ],
      },
      {
        name: 'PutRecordsRequestEntry',
        field: [
          field('data', 3, Type.BYTES),
          field('explicitHashKey', 4, Type.STRING),
          field('partitionKey', 5, Type.STRING),
          field('partitionId', 6, Type.STRING),
          field('extendedInfo', 7, Type.MESSAGE, '.dis.ExtendedInfo'),
          field('timestamp', 29, Type.INT64),
        ],
      },
      {
        // Its content is not ours to read: any fields do, to see them skipped.
        name: 'ExtendedInfo',
        field: [field('key', 1, Type.STRING), field('count', 2, Type.INT64)],
      },
      {
        name: 'PutRecordsResult',
        field: [
          field('failedRecordCount', 21, Type.INT32, undefined, Label.REQUIRED),
          field('records', 22, Type.MESSAGE, '.dis.PutRecordsResultEntry', Label.REPEATED),
        ],
      },
      {
        name: 'PutRecordsResultEntry',
        field: [
          field('shardId', 23, Type.STRING),
          field('sequenceNumber', 24, Type.STRING),
          field('errorCode', 25, Type.STRING),
          field('errorMessage', 26, Type.STRING),
        ],
      },
    ],
  }),
  () => undefined,
);

function message(name: string): DescMessage {
  const desc = registry.getMessage(`dis.${name}`);
  assert.ok(desc, name);
  return desc;
}
const RequestSchema = message('PutRecordsRequest');
const ResultSchema = message('PutRecordsResult');

// ---------------------------------------------------------------------------------------------
// Seeded random messages, in the JSON mapping

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'Z', '0', '-', '_', ' ', 'é', 'ß', '中', '😀', '\u0000', '\ufeff', '\u07ff'];

function randomGenerators(random: () => number) {
  const int = (n: number): number => Math.floor(random() * n);
  const chance = (p: number): boolean => random() < p;
  const string = (): string => {
    const length = chance(0.1) ? 0 : int(chance(0.05) ? 300 : 20);
    return Array.from({ length }, () => ALPHABET[int(ALPHABET.length)]).join('');
  };
  const data = (): Uint8Array => {
    const length = chance(0.1) ? 0 : chance(0.02) ? 20_000 + int(20_000) : int(64);
    return Uint8Array.from({ length }, () => int(256));
  };
  const int64 = (): bigint => {
    switch (int(5)) {
      case 0:
        return BigInt(int(128));
      case 1:
        return 1_733_200_000_000n + BigInt(int(1e9));
      case 2:
        return -BigInt(int(1e6)) - 1n;
      case 3:
        return BigInt.asIntN(64, BigInt(int(2 ** 32)) * BigInt(int(2 ** 32)));
      default:
        return [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, -(2n ** 53n) - 1n][int(6)] ?? 0n;
    }
  };
  return { int, chance, string, data, int64 };
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

interface RandomRequest {
  json: JsonObject;
  /** The JSON our decoder must reproduce: extendedInfo is not ours to read. */
  expected: JsonObject;
  hasExtendedInfo: boolean;
}

function randomRequest(g: ReturnType<typeof randomGenerators>): RandomRequest {
  const json: JsonObject = {};
  const expected: JsonObject = {};
  let hasExtendedInfo = false;
  const set = (target: JsonObject[], key: string, value: string) => {
    for (const t of target) t[key] = value;
  };
  if (g.chance(0.8)) set([json, expected], 'streamName', g.string());
  if (g.chance(0.3)) set([json, expected], 'streamId', g.string());
  const count = g.chance(0.1) ? 0 : 1 + g.int(g.chance(0.1) ? 200 : 8);
  if (count > 0) {
    const records: JsonObject[] = [];
    const expectedRecords: JsonObject[] = [];
    for (let i = 0; i < count; i++) {
      const entry: JsonObject = {};
      const expectedEntry: JsonObject = {};
      set([entry, expectedEntry], 'data', base64(g.data()));
      for (const key of ['explicitHashKey', 'partitionKey', 'partitionId']) {
        if (g.chance(0.4)) set([entry, expectedEntry], key, g.string());
      }
      if (g.chance(0.4)) set([entry, expectedEntry], 'timestamp', String(g.int64()));
      if (g.chance(0.15)) {
        hasExtendedInfo = true;
        entry['extendedInfo'] = { key: g.string(), count: String(g.int64()) };
      }
      records.push(entry);
      expectedRecords.push(expectedEntry);
    }
    json['records'] = records;
    expected['records'] = expectedRecords;
  }
  return { json, expected, hasExtendedInfo };
}

/** Ours, in the JSON mapping. */
function requestToJson(request: DecodedPutRecords): JsonObject {
  const json: JsonObject = {};
  if (request.streamName !== undefined) json['streamName'] = request.streamName;
  if (request.streamId !== undefined) json['streamId'] = request.streamId;
  if (request.records.length > 0) {
    json['records'] = request.records.map((r) => {
      const entry: JsonObject = { data: base64(r.data) };
      if (r.explicitHashKey !== undefined) entry['explicitHashKey'] = r.explicitHashKey;
      if (r.partitionKey !== undefined) entry['partitionKey'] = r.partitionKey;
      if (r.partitionId !== undefined) entry['partitionId'] = r.partitionId;
      if (r.timestamp !== undefined) entry['timestamp'] = String(r.timestamp);
      return entry;
    });
  }
  return json;
}

/** What our encoder takes, from the JSON mapping (extendedInfo dropped). */
function requestFromJson(json: JsonObject): Parameters<typeof encodePutRecordsRequest>[0] {
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const records = Array.isArray(json['records']) ? json['records'] : [];
  return {
    ...strings(json, ['streamName', 'streamId']),
    records: records.map((r): EncodablePutRecordsEntry => {
      assert.ok(r !== null && typeof r === 'object' && !Array.isArray(r));
      const timestamp = text(r['timestamp']);
      return {
        data: Buffer.from(text(r['data']) ?? '', 'base64'),
        ...strings(r, ['explicitHashKey', 'partitionKey', 'partitionId']),
        ...(timestamp === undefined ? {} : { timestamp: BigInt(timestamp) }),
      };
    }),
  };
}

function strings<K extends string>(
  json: JsonObject,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const picked: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = json[key];
    if (typeof value === 'string') picked[key] = value;
  }
  return picked;
}

function randomResult(g: ReturnType<typeof randomGenerators>): {
  json: JsonObject;
  ours: { failedRecordCount: number; records: EncodablePutRecordsResultEntry[] };
} {
  const records: EncodablePutRecordsResultEntry[] = Array.from(
    { length: g.chance(0.1) ? 0 : 1 + g.int(g.chance(0.1) ? 500 : 10) },
    () =>
      g.chance(0.3)
        ? { errorCode: `DIS.${4000 + g.int(2000)}`, errorMessage: g.string() }
        : {
            shardId: `shardId-${String(g.int(100)).padStart(10, '0')}`,
            sequenceNumber: String(g.int64()),
          },
  );
  const failedRecordCount = g.chance(0.1) ? 0x7fffffff : g.int(records.length + 1);
  const json: JsonObject = { failedRecordCount };
  if (records.length > 0) json['records'] = records.map((r) => ({ ...r }));
  return { json, ours: { failedRecordCount, records } };
}

function resultToJson(result: DecodedPutRecordsResult): JsonObject {
  const json: JsonObject = { failedRecordCount: result.failedRecordCount };
  if (result.records.length > 0) json['records'] = result.records.map((r) => ({ ...r }));
  return json;
}

// ---------------------------------------------------------------------------------------------

const RUNS = 400;

describe('PutRecords protobuf against @bufbuild/protobuf', () => {
  it('random requests encoded by @bufbuild/protobuf decode identically with ours, and back', () => {
    const g = randomGenerators(mulberry32(0x13_0b));
    let withExtendedInfo = 0;
    for (let run = 0; run < RUNS; run++) {
      const { json, expected, hasExtendedInfo } = randomRequest(g);
      const theirs = toBinary(RequestSchema, fromJson(RequestSchema, json));

      assert.deepEqual(requestToJson(decodePutRecordsRequest(theirs)), expected, `run ${run}`);

      const ours = encodePutRecordsRequest(requestFromJson(json));
      assert.deepEqual(toJson(RequestSchema, fromBinary(RequestSchema, ours)), expected);
      if (hasExtendedInfo) withExtendedInfo++;
      else assert.deepEqual(ours, Buffer.from(theirs), `run ${run}: same bytes`);
    }
    // The property covered what it claims to.
    assert.ok(withExtendedInfo > 20 && withExtendedInfo < RUNS - 20);
  });

  it('random results encoded by ours decode identically with @bufbuild/protobuf, and back', () => {
    const g = randomGenerators(mulberry32(0x22_15));
    for (let run = 0; run < RUNS; run++) {
      const { json, ours } = randomResult(g);
      const encoded = encodePutRecordsResult(ours);
      assert.deepEqual(toJson(ResultSchema, fromBinary(ResultSchema, encoded)), json, `run ${run}`);

      const theirs = toBinary(ResultSchema, fromJson(ResultSchema, json));
      assert.deepEqual(encoded, Buffer.from(theirs), `run ${run}: same bytes`);
      assert.deepEqual(resultToJson(decodePutRecordsResult(theirs)), json);
    }
  });
});
