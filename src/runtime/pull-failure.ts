// What to tell a user whose image could not be pulled, by why (see PullFailure).
import { BerthError } from '../lib/errors.js';
import type { PullFailure } from './types.js';

/** What to tell the user about a failed pull. */
export function pullHint(reason: PullFailure, ref: string): string {
  switch (reason) {
    case 'offline': return 'no registry answers from this host: make one reachable, or load the image with docker load';
    case 'not_found': return `check the name and tag of ${ref}`;
    case 'unauthorized': return 'log in first: echo "$TOKEN" | berth registry login HOST -u USER --password-stdin';
    case 'rate_limited': return 'the registry limits pulls: wait a while, log in, or use a mirror';
    case 'timeout': return 'the registry was slow to answer: try again';
    case 'other': return 'see the message above; try again';
  }
}

/** What to tell a user whose registry login failed, by why: wrong credentials are bad input
 *  (nothing is stored); any other failure is the registry's or the network's. */
export function loginFailure(server: string, reason: PullFailure, message: string): BerthError {
  if (reason === 'unauthorized') {
    return new BerthError('invalid', `${server} refused the login: ${message}`,
      `check the username and the password (or token) for ${server}; nothing was stored`, { reason });
  }
  const hint = reason === 'offline' ? `no registry answers at ${server} from this host: check its host name and port` : pullHint(reason, server);
  return new BerthError('unavailable', `cannot log in to ${server} (${reason.replace('_', ' ')}): ${message}`, hint, { reason });
}
