// `berth deploy APP` in an app's directory: its berth.yml (or docker-compose.yml) is read here,
// on the machine it is typed on, with the user's env for ${VAR}; the daemon gets the merged
// document and checks it again. The spec code is loaded only when there is a file to read.
import { dirname } from 'node:path';
import { BerthError, ValidationError } from '../lib/errors.js';
import type { DaemonClient } from '../daemon/client.js';
import { AppCreateBody, parseBody } from '../daemon/bodies.js';
import { progress } from './output.js';
import { findSpecFile } from '../core/spec/files.js';

export interface DescribedOptions { file?: string; compose?: string; build?: string | true; process?: string[]; port?: string; healthPath?: string }

/** The description's part of a deploy body, or undefined when the deploy is not of one. */
export async function describedApp(o: DescribedOptions, cwd = '.'): Promise<{ spec: Record<string, unknown>; spec_dir: string } | undefined> {
  if (o.file && o.compose) throw new ValidationError('file', 'give --file or --compose, not both');
  const target = o.file ?? o.compose ?? null;
  // without a file named, the current directory's counts unless the flags describe the deploy themselves
  const found = target ?? (o.build === undefined && !o.process && !o.port && !o.healthPath ? findSpecFile(cwd) : null);
  if (!found) return undefined;
  const spec = await import('../core/spec/index.js');
  const stray = o.build !== undefined ? '--build' : o.process ? '--process' : o.port ? '--port' : o.healthPath ? '--health-path' : null;
  if (stray) throw new ValidationError(stray.slice(2), `${stray} is for a deploy without a description; the file says it`, `edit ${found} instead`);
  const r = spec.checkAppSpec(found, process.env, { compose: !!o.compose });
  for (const w of r.warnings) progress(`warning: ${w}`);
  if (!r.ok) throw new spec.SpecInvalid(r.issues, r.warnings);
  if (!target) progress(`deploying what ${r.path} describes`);
  return { spec: r.doc, spec_dir: dirname(r.path) };
}

/** One file and one command: an app that a description deploys is created first when it does not
 *  exist yet, on the file's domains, with the defaults of `berth apps create` (the platform's
 *  shared services). Without domains in the file there is nothing to serve it on: said, with the fix. */
export async function createDescribedApp(client: DaemonClient, name: string, doc: Record<string, unknown>): Promise<void> {
  try {
    await client.call('GET', `/apps/${encodeURIComponent(name)}`);
    return;
  } catch (e) {
    if (!(e instanceof BerthError) || e.code !== 'not_found') throw e;
  }
  const domains = Array.isArray(doc.domains) ? doc.domains as string[] : [];
  if (!domains.length) {
    throw new BerthError('not_found', `app ${name} does not exist, and the file names no domains to create it on`,
      `add domains: [${name}.example.com] to the file, or create it first: berth apps create ${name} --domain ${name}.example.com`);
  }
  parseBody(AppCreateBody, { name, domains }, 'file');
  const r = await client.call<{ app: string; domains: string[]; resources: Record<string, string | null> }>('POST', '/apps', { name, domains });
  const held = Object.entries(r.resources).filter(([, x]) => x).map(([k]) => k);
  progress(`created app ${r.app} (${r.domains.join(', ')})${held.length ? ` with ${held.join(', ')}` : ''}; berth apps show ${r.app} lists what it has`);
}
