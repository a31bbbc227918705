import { GlintError } from '../errors/index.ts';
import { ConfigErrorCode } from './error-codes.ts';
import type { ConfigIssue } from './format-issues.ts';

export class ConfigError extends GlintError {
  override name = 'ConfigError';
  readonly issues: ConfigIssue[];

  constructor(file: string, issues: ConfigIssue[]) {
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    super(
      ConfigErrorCode.InvalidConfig,
      `${file} has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${lines}`,
      {
        details: { issues },
      },
    );
    this.issues = issues;
  }
}
