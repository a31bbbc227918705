export { type CronSchedule, cronSchedule } from './cron-schedule.ts';
export { instanceJitter } from './instance-jitter.ts';
export { planAgeRotation } from './plan-age-rotation.ts';
export { planCronRotation } from './plan-cron-rotation.ts';
export { RotationSkipReason, RotationTrigger } from './rotation-reasons.ts';
export { type RotationRecord, RotationRecordSchema } from './rotation-record.ts';
export {
  RotationScheduler,
  type RotationSchedulerDeps,
  type ScheduledRotation,
} from './rotation-scheduler.ts';
export { EtcdRotationStore, type RotationStore } from './rotation-store.ts';
