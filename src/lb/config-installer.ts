import { readFile, rename, rm } from 'node:fs/promises';
import { GlintError } from '../errors/index.ts';
import { copyFileAtomic, installWithBackup, writeFileAtomic } from './config-files.ts';
import type { ConfigValidator } from './config-validator.ts';
import { describeConfigRejection } from './describe-config-rejection.ts';
import { backendName, frontendName, type LbModel, type LbPaths } from './lb-model.ts';
import { renderHaproxyConfig } from './render-haproxy-config.ts';

/**
 * Owns haproxy.cfg on disk: every file is written as a candidate next to it, checked with
 * `haproxy -c`, and only then renamed into place, so an invalid file is never installed.
 */
export class ConfigInstaller {
  constructor(
    private readonly paths: LbPaths,
    private readonly validator: ConfigValidator,
  ) {}

  installed(): Promise<string> {
    return readFile(this.paths.config, 'utf8').catch(() => '');
  }

  /** A validated write: replaces the file, leaving `haproxy.cfg.prev` alone. */
  async write(model: LbModel): Promise<void> {
    await this.stage(model, renderHaproxyConfig(model));
    await this.promote();
  }

  /**
   * A membership mirror, written without `haproxy -c`: it differs from a file HAProxy already
   * accepted only in server states, in servers taken out, or in servers HAProxy itself holds
   * (a new one's line was checked when it was staged). Checking each state change cost a
   * process start per step of every rollout.
   */
  async mirror(model: LbModel): Promise<void> {
    await writeFileAtomic(this.paths.config, renderHaproxyConfig(model)).catch((err) => {
      throw writeFailed(this.paths.config, err);
    });
  }

  /** Moves a staged candidate in place, without keeping the previous file. */
  promote(): Promise<void> {
    return rename(this.paths.candidateConfig, this.paths.config).catch((err) => {
      throw writeFailed(this.paths.config, err);
    });
  }

  /** Writes and validates the candidate; throws `LbConfigInvalid` naming the app. */
  async stage(model: LbModel, text: string): Promise<void> {
    await writeFileAtomic(this.paths.candidateConfig, text).catch((err) => {
      throw writeFailed(this.paths.candidateConfig, err);
    });
    const result = await this.validator.validate(this.paths.candidateConfig);
    if (result.valid) return;
    await rm(this.paths.candidateConfig, { force: true });
    const appOf = (section: string) =>
      model.apps.find((a) => section === backendName(a.name) || section === frontendName(a.name))?.name;
    const rejection = describeConfigRejection(text, result.output, appOf);
    const subject = rejection.app ? ` for app "${rejection.app}"` : '';
    throw new GlintError(
      'LbConfigInvalid',
      `HAProxy rejected the new configuration${subject}: ${rejection.reason}. Nothing was installed; the running configuration is unchanged.`,
      { details: { ...(rejection.app ? { app: rejection.app } : {}), haproxy: rejection.reason } },
    );
  }

  /** A structural install: the staged candidate replaces the file, which is kept as `.prev`. */
  installStaged(): Promise<void> {
    return installWithBackup(this.paths.candidateConfig, this.paths.config, this.paths.previousConfig);
  }

  /** After a reload HAProxy refused: the file again says what is running. */
  restorePrevious(): Promise<void> {
    return copyFileAtomic(this.paths.previousConfig, this.paths.config);
  }
}

function writeFailed(path: string, cause: unknown): GlintError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new GlintError(
    'LbConfigWriteFailed',
    `could not write ${path} (${reason}); check that HAProxy's run folder exists and is writable`,
    { cause, details: { path } },
  );
}
