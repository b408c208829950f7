// Caddy expands {placeholders} in most string values it reads at request time (header values,
// file roots, redirect targets), {env.NAME} among them: a header value `{env.SECRET}` would send
// the proxy's environment to every client. User text is made literal by escaping each brace
// (`\{`, `\}`): Caddy's replacer drops the backslash before a brace and keeps the brace
// (caddy/replacer.go, "check for escaped braces"). Only the backslash right before a brace is
// dropped, so a user's own backslashes come through as they were.

export const literal = (s: string): string => s.replace(/[{}]/g, (b) => `\\${b}`);
