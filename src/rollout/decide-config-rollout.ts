import { ConfigChangeOutcome } from '../etcd/state-records.ts';

export type ConfigRolloutInput = {
  /** The app's `onConfigChange`. */
  policy: 'rotate' | 'none';
  /** The env the app would get now: its fingerprint, or why it can't be resolved. */
  wanted: { fingerprint: string } | { error: string };
  /** Another deployment of the app holds its lock. */
  active: boolean;
  /** The env fingerprint of the release the app runs (its record's current), if any. */
  running?: string | undefined;
  /**
   * For a change queued behind a deployment that has now ended: the env fingerprint that
   * deployment rolled out (or tried to). Left out for a change seen while nothing was active.
   */
  lastRolledOut?: { deploymentId: string; fingerprint: string; state: string } | undefined;
};

export type ConfigRolloutDecision = {
  outcome: ConfigChangeOutcome;
  /** For people, on the app record. */
  message: string;
};

/**
 * What a change of an app's env in etcd does. Pure, so "a change queued behind a deployment
 * that already rolled out the same env starts nothing" is a table row.
 */
export function decideConfigRollout(input: ConfigRolloutInput): ConfigRolloutDecision {
  if (input.policy === 'none')
    return {
      outcome: ConfigChangeOutcome.Recorded,
      message: "onConfigChange is 'none': the app's next deployment takes the new env",
    };
  if ('error' in input.wanted)
    return {
      outcome: ConfigChangeOutcome.Failed,
      message: `the new env can't be resolved: ${input.wanted.error}`,
    };
  const wanted = input.wanted.fingerprint;
  if (input.active)
    return {
      outcome: ConfigChangeOutcome.Queued,
      message: 'another deployment is active; rolled out after it ends if the env still differs',
    };
  if (wanted === input.running)
    return { outcome: ConfigChangeOutcome.Skipped, message: 'the instances already run this env' };
  const last = input.lastRolledOut;
  if (last && last.fingerprint === wanted)
    return {
      outcome: ConfigChangeOutcome.Skipped,
      message: `deployment ${last.deploymentId} (${last.state}) already rolled out this env`,
    };
  return { outcome: ConfigChangeOutcome.Started, message: 'rolling out the new env' };
}
