export { GlintMetrics, type MetricsSources } from './glint-metrics.ts';
