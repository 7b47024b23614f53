import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import helmet from 'helmet';
import supertest from 'supertest';
import { HELMET_OPTIONS, securityHeaders } from '../../src/http/middleware/security-headers.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

/** The headers helmet(HELMET_OPTIONS) itself sets on an answer of a bare Express app. */
async function helmetReference(): Promise<Record<string, string>> {
  const app = express();
  app.use(helmet(HELMET_OPTIONS));
  app.get('/', (_req, res) => {
    res.json({ ok: true });
  });
  const res = await supertest(app).get('/');
  const headers: Record<string, string> = {};
  const plain = await supertest(express().get('/', (_req, res) => res.json({ ok: true }))).get('/');
  for (const [name, value] of Object.entries(res.headers)) {
    if (!(name in plain.headers) && typeof value === 'string') headers[name] = value;
  }
  return headers;
}

describe('security headers', () => {
  let reference: Record<string, string>;
  let gw: TestGateway;
  before(async () => {
    reference = await helmetReference();
    gw = await startGateway({ streams: [{ name: 'clicks', partitions: 1 }] });
  });
  after(async () => {
    await gw.close();
  });

  it('are exactly the ones helmet() sets, with the same values', async () => {
    // A JSON API's set (OWASP REST Security Cheat Sheet), as helmet writes it with our options.
    assert.deepEqual(reference, {
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
    const app = express();
    app.use(securityHeaders());
    app.get('/', (_req, res) => {
      res.json({ ok: true });
    });
    const res = await supertest(app).get('/');
    const plain = await supertest(express().get('/', (_req, r) => r.json({ ok: true }))).get('/');
    const added = Object.keys(res.headers).filter((name) => !(name in plain.headers));
    assert.deepEqual(added.sort(), Object.keys(reference).sort(), 'no header more, none less');
    for (const [name, value] of Object.entries(reference)) {
      assert.equal(res.headers[name], value, name);
    }
    assert.equal(res.headers['x-powered-by'], undefined, 'removed, as helmet removes it');
  });

  it('are on every gateway answer: accepted records, problems, health', async () => {
    const token = gw.token({ scopes: ['dis:write:clicks'] });
    const answers = [
      await gw.http
        .post('/v1/streams/clicks/records')
        .set('Authorization', `Bearer ${token}`)
        .set('Content-Type', 'application/json')
        .send('{"records":[{"data":{"n":1}}]}'),
      await gw.http.get('/no/such/route'),
      await gw.http.post('/v1/streams/clicks/records').send('{}'),
      await gw.http.get('/healthz'),
    ];
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 404, 401, 200],
    );
    for (const res of answers) {
      for (const [name, value] of Object.entries(reference)) {
        assert.equal(res.headers[name], value, `${name} on ${res.status}`);
      }
      assert.equal(res.headers['x-powered-by'], undefined);
    }
  });
});
