import { describe, expect, it } from 'vitest';
import { relativeToFile } from './serve.ts';

describe('relativeToFile: the tls files', () => {
  it("resolves the files of sibyl.yaml against the file's folder; absolute paths stay", () => {
    expect(relativeToFile({ tls: { certFile: 'certs/server.pem', keyFile: '/abs/server.key', caFile: '../ca.pem', clientCertificates: 'require' } }, '/etc/sibyl/sibyl.yaml')).toEqual({
      tls: { certFile: '/etc/sibyl/certs/server.pem', keyFile: '/abs/server.key', caFile: '/etc/ca.pem', clientCertificates: 'require' },
    });
  });
});
