import { z } from 'zod';
import { RotationSkipReason, RotationTrigger } from './rotation-reasons.ts';

const instant = z.iso.datetime();

/** One rotation the scheduler started, or decided not to start. */
const RotationRunSchema = z.object({
  trigger: z.enum(RotationTrigger),
  /** When the scheduler decided. */
  at: instant,
  /** cron: the scheduled time this run stands for. */
  slot: instant.optional(),
  outcome: z.enum(['started', 'skipped']),
  deploymentId: z.string().optional(),
  /** maxAge: the instances that were past their age. */
  instances: z.array(z.string()).optional(),
  reason: z.enum(RotationSkipReason).optional(),
  message: z.string().optional(),
});
export type RotationRun = z.infer<typeof RotationRunSchema>;

/**
 * `<prefix>/state/rotations/<app>`: the newest cron slot taken (run or skipped) and the last
 * rotation. A daemon takes a slot by writing it with compare-and-swap before it starts the
 * rotation, so of two daemons that both see a slot due only one runs it.
 */
export const RotationRecordSchema = z.object({
  app: z.string(),
  lastSlot: instant.optional(),
  last: RotationRunSchema.optional(),
  updatedAt: instant,
});
export type RotationRecord = z.infer<typeof RotationRecordSchema>;
