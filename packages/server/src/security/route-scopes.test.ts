import { describe, expect, it } from 'vitest';
import { grpcInferScope, grpcMethodAccess, httpRouteAccess } from './route-scopes.ts';

describe('the route → scope table', () => {
  it.each([
    ['GET', '/v2/health/live', {}, undefined],
    ['GET', '/v2/health/ready', {}, undefined],
    ['HEAD', '/v2/health/ready', {}, undefined],
    ['OPTIONS', '/v2/models/:model/infer', { model: 'm' }, undefined],
    ['POST', '/v2/models/:model/infer', { model: 'm' }, 'infer:m'],
    ['POST', '/v2/models/:model/versions/:version/infer', { model: 'm', version: '2' }, 'infer:m'],
    ['POST', '/v2/models/:model/labels/:label/infer', { model: 'm', label: 'stable' }, 'infer:m'],
    ['POST', '/v1/models/*', { '*': 'm:predict' }, 'infer:m'],
    ['POST', '/v1/models/*', { '*': 'm/versions/3:predict' }, 'infer:m'],
    ['POST', '/v1/models/*', { '*': 'm/labels/stable:predict' }, 'infer:m'],
    ['POST', '/v1/endpoints/:endpoint/feedback', { endpoint: 'e' }, 'infer:e'],
    ['POST', '/v1/predictions/:model/lookup', { model: 'm' }, 'infer:m'],
    ['GET', '/v1/predictions/:model/:key', { model: 'm', key: 'k' }, 'infer:m'],
    ['GET', '/v2', {}, 'read'],
    ['GET', '/metrics', {}, 'read'],
    ['GET', '/v2/models/:model', { model: 'm' }, 'read'],
    ['GET', '/v2/models/:model/ready', { model: 'm' }, 'read'],
    ['GET', '/v2/models/:model/versions/:version/config', { model: 'm', version: '1' }, 'read'],
    ['GET', '/v2/models/stats', {}, 'read'],
    ['GET', '/v1/models', {}, 'read'],
    ['GET', '/v1/models/*', { '*': 'm/metadata' }, 'read'],
    ['GET', '/v2/repository/models', {}, 'read'],
    ['POST', '/v2/repository/index', {}, 'read'],
    ['GET', '/v1/endpoints/:endpoint', { endpoint: 'e' }, 'read'],
    ['GET', '/v1/models/:model/predictions', { model: 'm' }, 'read'],
    ['GET', '/v1/models/:model/drift', { model: 'm' }, 'read'],
    ['GET', '/v1/batch/jobs', {}, 'read'],
    ['GET', '/v2/logging', {}, 'read'],
    ['POST', '/v1/batch/jobs', {}, 'batch:run'],
    ['GET', '/v1/batch/jobs/:id', { id: 'j' }, 'batch:run'],
    ['POST', '/v1/batch/jobs/:id/resume', { id: 'j' }, 'batch:run'],
    ['POST', '/v1/batch/jobs/:id/cancel', { id: 'j' }, 'admin'],
    ['POST', '/v2/repository/models/:model/load', { model: 'm' }, 'admin'],
    ['POST', '/v2/repository/models/:model/unload', { model: 'm' }, 'admin'],
    ['PUT', '/v2/repository/models/:model/labels/:label', { model: 'm', label: 'l' }, 'admin'],
    ['DELETE', '/v2/repository/models/:model/labels/:label', { model: 'm', label: 'l' }, 'admin'],
    ['POST', '/v2/repository/models/:model/labels/:label/rollback', { model: 'm', label: 'l' }, 'admin'],
    ['GET', '/v2/repository/state', {}, 'admin'],
    ['PUT', '/v2/repository/state', {}, 'admin'],
    ['PUT', '/v1/endpoints/:endpoint', { endpoint: 'e' }, 'admin'],
    ['DELETE', '/v1/endpoints/:endpoint', { endpoint: 'e' }, 'admin'],
    ['POST', '/v1/endpoints/:endpoint/canary/promote', { endpoint: 'e' }, 'admin'],
    ['POST', '/v1/endpoints/:endpoint/switch', { endpoint: 'e' }, 'admin'],
    ['POST', '/v2/logging', {}, 'admin'],
    ['POST', '/v2/some/route/added/later', {}, 'admin'],
  ])('%s %s needs %s', (method, route, params, scope) => {
    expect(httpRouteAccess(method, route, params as Record<string, string>).scope).toBe(scope);
  });

  it('marks the management plane and the audited actions', () => {
    const load = httpRouteAccess('POST', '/v2/repository/models/:model/load', { model: 'm' });
    expect([load.management, load.audited]).toEqual([true, true]);
    const list = httpRouteAccess('GET', '/v2/repository/models', {});
    expect([list.management, list.audited]).toEqual([true, false]);
    const infer = httpRouteAccess('POST', '/v2/models/:model/infer', { model: 'm' });
    expect([infer.management, infer.audited]).toEqual([false, false]);
    expect(httpRouteAccess('POST', '/v1/batch/jobs', {}).audited).toBe(true);
    expect(httpRouteAccess('GET', '/metrics', {}).management).toBe(false);
  });

  it('an unknown route needs authentication, no scope', () => {
    expect(httpRouteAccess('GET', undefined, {})).toMatchObject({ scope: undefined, management: false });
  });

  it.each([
    ['ServerLive', undefined],
    ['ServerReady', undefined],
    ['ServerMetadata', 'read'],
    ['ModelMetadata', 'read'],
    ['RepositoryIndex', 'read'],
    ['RepositoryModelLoad', 'admin'],
    ['RepositoryModelUnload', 'admin'],
    ['SomethingNew', 'admin'],
  ])('gRPC %s needs %s', (method, scope) => {
    expect(grpcMethodAccess(method).scope).toBe(scope);
  });

  it('gRPC inference needs infer:<model_name>', () => {
    expect(grpcInferScope('m')).toBe('infer:m');
    expect(grpcMethodAccess('RepositoryModelLoad').audited).toBe(true);
  });
});
