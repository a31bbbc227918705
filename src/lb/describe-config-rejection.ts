const LINE_REF = /parsing \[[^\]]*:(\d+)\]/;
const SECTION = /^(frontend|backend)\s+(\S+)/;

export type ConfigRejection = { app?: string; reason: string };

/**
 * Turns `haproxy -c` output into a reason a person can act on: the ALERT lines, and the app
 * whose section holds the first line HAProxy complained about. Pure.
 */
export function describeConfigRejection(
  configText: string,
  output: string,
  appOfSection: (section: string) => string | undefined,
): ConfigRejection {
  const alerts = output
    .split('\n')
    .filter((l) => l.includes('[ALERT]'))
    .map((l) => l.replace(/^\[ALERT\]\s*\(\d+\)\s*:\s*/, '').trim())
    .filter((l) => !/^config : (Error\(s\) found|Fatal errors found)/.test(l));
  const reason = (alerts.length > 0 ? alerts : [output.trim()]).join('; ');
  const lineNo = Number(LINE_REF.exec(output)?.[1] ?? 0);
  if (lineNo === 0) return { reason };
  const lines = configText.split('\n').slice(0, lineNo).reverse();
  for (const line of lines) {
    const match = SECTION.exec(line);
    if (match) {
      const app = appOfSection(match[2]!);
      return app ? { app, reason } : { reason };
    }
    if (/^(global|defaults)\b/.test(line)) break;
  }
  return { reason };
}
