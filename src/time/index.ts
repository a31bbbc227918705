export { sleep } from './sleep.ts';
