import { copyFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine, DockerRuntime } from '../../../src/docker/index.ts';
import {
  type ConfigValidator,
  type ContainerExec,
  DockerExecValidator,
  LocalBinaryValidator,
  pickConfigValidator,
} from '../../../src/lb/index.ts';
import { goldenModels } from '../../fixtures/lb/golden-models.ts';
import { removeTestContainers } from '../../support/cleanup.ts';
import { testRunId } from '../../support/labels.ts';
import { type LbFixture, startLbFixture } from './lb-fixture.ts';

const SUITE = 'lb-config-validation';
const goldenPath = (name: string) =>
  new URL(`../../fixtures/lb/${name}.golden.cfg`, import.meta.url).pathname;
let fx: LbFixture;
let validators: ConfigValidator[];
const engine = new DockerRuntime(new DockerEngine());
const exec: ContainerExec = (container, command, signal) => engine.exec(container, command, { signal });

beforeAll(async () => {
  // The HAProxy container only sees its run folder, so files are checked from there.
  fx = await startLbFixture(SUITE, []);
  validators = [new LocalBinaryValidator(), new DockerExecValidator(fx.haproxy.container.getId(), exec)];
});

afterAll(async () => {
  await removeTestContainers({ runId: testRunId(), suite: SUITE });
});

describe('every rendered golden file is valid for the real haproxy -c', () => {
  const names = Object.keys(goldenModels);
  it.each(names)('%s passes the local binary and the container', async (name) => {
    const inRunDir = `${fx.runDir}/${name}.cfg`;
    copyFileSync(goldenPath(name), inRunDir);
    for (const validator of validators) {
      const result = await validator.validate(inRunDir);
      expect({ validator: validator.description, ...result }).toMatchObject({ valid: true });
    }
  });
});

describe('validators', () => {
  it('both report an invalid file with the reason HAProxy gives', async () => {
    const bad = `${fx.runDir}/bad.cfg`;
    writeFileSync(bad, 'defaults\n  mode http\nfrontend f\n  bind 127.0.0.1:70000\n');
    for (const validator of validators) {
      const result = await validator.validate(bad);
      expect(result.valid).toBe(false);
      expect(result.output).toMatch(/invalid port '70000'/);
    }
  });

  it('prefers the local binary when the host has one', async () => {
    const picked = await pickConfigValidator({ container: fx.haproxy.container.getId() });
    expect(picked).toBeInstanceOf(LocalBinaryValidator);
  });

  it('falls back to the container when no binary is installed, and fails clearly with neither', async () => {
    const fallback = await pickConfigValidator({
      binary: '/nonexistent/haproxy',
      container: 'haproxy-x',
      exec,
    });
    expect(fallback).toBeInstanceOf(DockerExecValidator);
    await expect(pickConfigValidator({ binary: '/nonexistent/haproxy' })).rejects.toThrow(/install haproxy/);
    await expect(
      pickConfigValidator({ binary: '/nonexistent/haproxy', container: 'haproxy-x' }),
    ).rejects.toThrow(/no Docker engine/);
  });

  it('reports a missing container as a clear error, not as an invalid file', async () => {
    const missing = new DockerExecValidator('glint-no-such-haproxy', exec);
    await expect(missing.validate('/tmp/x.cfg')).rejects.toThrow(
      /check that the HAProxy container is running/,
    );
  });
});
