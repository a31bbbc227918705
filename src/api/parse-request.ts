import type { z } from 'zod';
import { GlintError } from '../errors/index.ts';
import { ApiErrorCode } from './error-codes.ts';

export type RequestPart = 'body' | 'query' | 'path' | 'header';
export type RequestIssue = { path: string; message: string };

/** Bounds on what a refusal echoes: a hostile request must not make the answer large. */
const MAX_ISSUES = 20;
const MAX_TEXT = 200;

const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

/** Field paths like `body.strategy.maxSurge` or `path.app`. */
export function issuesOf(part: RequestPart, error: z.ZodError): RequestIssue[] {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: clip([part, ...issue.path.map(String)].join('.')),
    message: clip(issue.message),
  }));
}

/** The part parsed by `schema`, or a 400 InvalidRequest naming each wrong field. */
export function parseRequestPart<S extends z.ZodType>(
  schema: S,
  part: RequestPart,
  value: unknown,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = issuesOf(part, parsed.error);
  throw new GlintError(
    ApiErrorCode.InvalidRequest,
    `the request is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    { details: { issues } },
  );
}
