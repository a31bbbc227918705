export { type CronSchedule, cronSchedule } from './cron-schedule.ts';
export { instanceJitter } from './instance-jitter.ts';
export {
  type AgedInstance,
  type AgeRotationPlan,
  type AgingInstance,
  planAgeRotation,
} from './plan-age-rotation.ts';
export { type CronDecision, type CronRotationPlan, planCronRotation } from './plan-cron-rotation.ts';
export { RotationSkipReason, RotationTrigger } from './rotation-reasons.ts';
export { type RotationRecord, RotationRecordSchema, type RotationRun } from './rotation-record.ts';
export {
  RotationScheduler,
  type RotationSchedulerDeps,
  type ScheduledRotation,
} from './rotation-scheduler.ts';
export { EtcdRotationStore, type RotationStore } from './rotation-store.ts';
