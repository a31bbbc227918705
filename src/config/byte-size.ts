/** Memory limits as Docker writes them: "256m", "1g", "512k", or a plain number of bytes. */
const UNIT_BYTES = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;

export const BYTE_SIZE_HINT = "use a size such as '128m', '1g' or '512k'";

export function parseByteSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg])?b?$/i.exec(text.trim());
  if (!match) return undefined;
  const unit = (match[2]?.toLowerCase() ?? 'b') as keyof typeof UNIT_BYTES;
  return Math.round(Number(match[1]) * UNIT_BYTES[unit]);
}
