export type SseEvent = { id?: string; event: string; data: string };

/**
 * Reads Server-Sent Events from a fetch response until `until` holds for the events so far, or
 * the stream ends (`ended` then says so). Frames are split on blank lines, as the format says.
 */
export async function readEvents(
  res: Response,
  until: (events: SseEvent[]) => boolean,
): Promise<{ events: SseEvent[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  for (;;) {
    if (until(events)) {
      await reader.cancel();
      return { events, ended: false };
    }
    const { value, done } = await reader.read();
    if (done) return { events, ended: true };
    buffer += decoder.decode(value, { stream: true });
    let cut = buffer.indexOf('\n\n');
    while (cut >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const fields = Object.fromEntries(
        frame
          .split('\n')
          .filter((l) => l && !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]),
      );
      if (fields.event || fields.data)
        events.push({
          ...(fields.id ? { id: fields.id } : {}),
          event: fields.event ?? 'message',
          data: fields.data ?? '',
        });
      cut = buffer.indexOf('\n\n');
    }
  }
}
