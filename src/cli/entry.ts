// The CLI's entry point. Node's on-disk compile cache applies only to modules loaded after it
// is enabled, so it comes first and the CLI is imported after it: a warm cache takes about a
// tenth off every command's start. The cache lives in the OS temp dir; without it Node just compiles.
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./main.js');
