// What to tell a user whose image could not be pulled, by why (see PullFailure).
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
