export {
  type Placement,
  type PlacementNode,
  type PlacementRule,
  type Placements,
  placeInstance,
  placeInstances,
} from './place-instance.ts';
export {
  CONSTRAINT_SYNTAX,
  constraintMismatch,
  type LabelledEngine,
  NAME_LABEL,
  type PlacementConstraint,
  parseConstraint,
} from './placement-constraint.ts';
