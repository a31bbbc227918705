import { describe, expect, it } from 'vitest';
import { buildCreateOptions, computeSpecHash, DockerErrorCode } from '../../../src/docker/index.ts';
import { DIGEST_A, specFixture } from './spec-fixture.ts';

describe('buildCreateOptions', () => {
  const spec = specFixture();
  const options = buildCreateOptions(spec);

  it('names the container glint-<app>-<instance> and creates it from the digest', () => {
    expect(options.name).toBe('glint-web-a1b2c3');
    expect(options.Image).toBe(`127.0.0.1:5000/demo-app@${DIGEST_A}`);
  });

  it('carries the labels glint recognises its containers by, plus the spec own', () => {
    expect(options.Labels).toEqual({
      team: 'web',
      'glint.managed': 'true',
      'glint.app': 'web',
      'glint.instance': 'a1b2c3',
      'glint.version': '1.2.0',
      'glint.digest': DIGEST_A,
      'glint.spec': computeSpecHash(spec),
      'glint.deployment': 'd-1',
      'glint.revision': 'abc123',
    });
  });

  it('labels the env it was made with by fingerprint and etcd revision, which the spec hash leaves out', () => {
    const fingerprint = `sha256:${'e'.repeat(64)}`;
    const withConfig = { ...spec, config: { fingerprint, revision: 42 } };
    expect(buildCreateOptions(withConfig).Labels).toMatchObject({
      'glint.env-fingerprint': fingerprint,
      'glint.config-revision': '42',
    });
    expect(computeSpecHash(withConfig)).toBe(computeSpecHash(spec));
  });

  it('publishes the app port on the host ip with an ephemeral host port', () => {
    expect(options.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(options.HostConfig?.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  });

  it('publishes nothing when the node reaches instances at their container IP, and labels the app port', () => {
    const direct = { ...spec, addressMode: 'container' as const };
    const created = buildCreateOptions(direct);
    expect(created.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(created.HostConfig?.PortBindings).toBeUndefined();
    expect(created.Labels?.['glint.port']).toBe('8080');
    expect(options.Labels?.['glint.port']).toBeUndefined();
    // Where an instance is reached is placement: one release, one revision.
    expect(computeSpecHash(direct)).toBe(computeSpecHash(spec));
  });

  it("runs an app in the host's network on its picked port, told as PORT, and labels that port", () => {
    const shared = buildCreateOptions({ ...spec, network: 'host', hostPort: 23456 });
    expect(shared.HostConfig?.NetworkMode).toBe('host');
    expect(shared.HostConfig?.PortBindings).toBeUndefined();
    expect(shared.ExposedPorts).toBeUndefined();
    // The fixture's env says PORT=8080: the picked port wins, or two instances would collide.
    expect(shared.Env).toEqual(['GREETING=hi', 'PORT=23456']);
    expect(shared.Labels?.['glint.port']).toBe('23456');
    expect(options.HostConfig?.NetworkMode).toBeUndefined();
    // The port is placement: instances of one release on different ports share a revision.
    expect(computeSpecHash({ ...spec, network: 'host', hostPort: 20001 })).toBe(
      computeSpecHash({ ...spec, network: 'host', hostPort: 23456 }),
    );
  });

  it("resolves glint-lb to the node's service address, and nothing else", () => {
    expect(options.HostConfig?.ExtraHosts).toEqual(['glint-lb:172.17.0.1']);
    const other = buildCreateOptions(specFixture({ serviceAddress: '10.0.0.7' }));
    expect(other.HostConfig?.ExtraHosts).toEqual(['glint-lb:10.0.0.7']);
  });

  it.each(['', 'glint-lb', '172.17.0.1; rm -rf /'])('refuses the service address %j', (serviceAddress) => {
    expect(() => buildCreateOptions(specFixture({ serviceAddress }))).toThrow(/service address/);
  });

  it('sets limits, an init process, no restart policy and the stop timeout in seconds', () => {
    expect(options.HostConfig).toMatchObject({
      Memory: 128 * 1024 * 1024,
      NanoCpus: 500_000_000,
      Init: true,
      RestartPolicy: { Name: 'no' },
    });
    expect(options.StopTimeout).toBe(10);
    expect(options.StopSignal).toBe('SIGTERM');
  });

  it('drops every capability and forbids new privileges, whatever the spec says', () => {
    expect(options.HostConfig).toMatchObject({ SecurityOpt: ['no-new-privileges:true'], CapDrop: ['ALL'] });
    expect(options.HostConfig).not.toHaveProperty('CapAdd');
    expect(options.HostConfig).not.toHaveProperty('Privileged');
    expect(options.HostConfig).not.toHaveProperty('Binds');
    expect(options.HostConfig).not.toHaveProperty('NetworkMode');
    expect(options).not.toHaveProperty('User');
  });

  it("applies the app's declared user, capabilities and read-only root filesystem", () => {
    const secured = buildCreateOptions(
      specFixture({
        security: { user: '1000:1000', readOnlyRootFilesystem: true, capAdd: ['NET_BIND_SERVICE'] },
      }),
    );
    expect(secured.User).toBe('1000:1000');
    expect(secured.HostConfig).toMatchObject({
      SecurityOpt: ['no-new-privileges:true'],
      CapDrop: ['ALL'],
      CapAdd: ['NET_BIND_SERVICE'],
      ReadonlyRootfs: true,
    });
  });

  it('passes env sorted, as NAME=value', () => {
    expect(options.Env).toEqual(['GREETING=hi', 'PORT=8080']);
  });

  it.each([
    {
      name: 'an image pinned by tag only',
      spec: specFixture({ image: { ...spec.image, ref: '127.0.0.1:5000/demo-app:1.2.0' } }),
    },
    { name: 'an instance id with a slash', spec: specFixture({ instance: 'a/b' }) },
    { name: 'a port out of range', spec: specFixture({ containerPort: 70000 }) },
    { name: 'an env name with a dash', spec: specFixture({ env: { 'BAD-NAME': 'x' } }) },
    { name: 'a label glint owns', spec: specFixture({ labels: { 'glint.managed': 'false' } }) },
    { name: "the host's network without a picked port", spec: specFixture({ network: 'host' }) },
    { name: "the host's network on port 0", spec: specFixture({ network: 'host', hostPort: 0 }) },
  ])('refuses $name', ({ spec: bad }) => {
    expect(() => buildCreateOptions(bad)).toThrow(
      expect.objectContaining({ code: DockerErrorCode.InvalidSpec }),
    );
  });
});
