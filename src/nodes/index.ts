export { NodeHealth, type NodeHealthOptions, type PingTarget } from './node-health.ts';
export {
  initialNodeStatus,
  type NodeState,
  type NodeStatus,
  nextNodeStatus,
  type PingResult,
} from './node-state.ts';
