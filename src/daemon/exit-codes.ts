// The daemon's exit statuses that mean something to whoever runs it (its supervisor).

/** Another daemon owns the data root now, or the data root was removed: whoever supervises this
 *  one must not start it again (two daemons would fight over the same containers and routes).
 *  75 is outside the statuses Node itself exits with (1-14, 128+signal). */
export const DAEMON_EXIT_SUPERSEDED = 75;
