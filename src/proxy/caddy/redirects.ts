// Redirect domains (www to apex, old domains): one route per app, beside the app's own route,
// answering with the same path and query on the target domain.
import { type RouteInput, redirectIdOf } from '../types.js';
import { literal } from './placeholders.js';

export function headersHandler(headers: Record<string, string> | undefined): object[] {
  const entries = Object.entries(headers ?? {});
  if (!entries.length) return [];
  // deferred: set when the answer is written, so they hold over what the app sends itself
  return [{ handler: 'headers', response: { set: Object.fromEntries(entries.map(([k, v]) => [k, [literal(v)]])), deferred: true } }];
}

/** The route answering r's redirect domains, or null when it has none. */
export function redirectRoute(r: RouteInput, httpsPort: number) {
  const rules = (r.redirects ?? []).filter((x) => x.from.length);
  if (!rules.length) return null;
  const port = httpsPort === 443 ? '' : `:${httpsPort}`;
  const answer = (to: string, code: number) => ({
    handler: 'static_response', status_code: code, headers: { Location: [`https://${literal(to)}${port}{http.request.uri}`] },
  });
  const handle = rules.length === 1
    ? [...headersHandler(r.headers), answer(rules[0]!.to, rules[0]!.code)]
    : [...headersHandler(r.headers),
      { handler: 'subroute', routes: rules.map((x) => ({ match: [{ host: x.from }], handle: [answer(x.to, x.code)], terminal: true })) }];
  return { '@id': redirectIdOf(r), match: [{ host: rules.flatMap((x) => x.from) }], handle, terminal: true };
}
