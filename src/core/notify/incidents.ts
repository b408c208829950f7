// What to tell the notification channel (pure): an incident is told once when it opens and once
// when it clears, however many passes see it in between.
export interface Incident { key: string; detail: string }

export function changes(now: Incident[], open: Incident[]): { opened: Incident[]; cleared: Incident[] } {
  const nowKeys = new Set(now.map((i) => i.key));
  const openKeys = new Set(open.map((i) => i.key));
  return { opened: now.filter((i) => !openKeys.has(i.key)), cleared: open.filter((i) => !nowKeys.has(i.key)) };
}

/** A Slack-compatible payload (`text`; Mattermost, Discord's /slack endpoint and most chat hooks take it). */
export function payload(kind: 'opened' | 'cleared', i: Incident, host: string)
  : { text: string; berth: { event: string; key: string; detail: string; host: string } } {
  const text = kind === 'opened' ? `:red_circle: berth on ${host}: ${i.detail}` : `:large_green_circle: berth on ${host}: resolved: ${i.detail}`;
  return { text, berth: { event: kind, key: i.key, detail: i.detail, host } };
}
