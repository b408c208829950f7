// berth spec: an app's berth.yml (or docker-compose.yml) checked on the machine it is typed on,
// without the daemon, and berth.yml's JSON Schema for editors. The spec code (zod v4, yaml) is
// loaded by these commands only, so that every other command starts as fast as before.
import type { Command } from 'commander';
import { out, progress } from './output.js';

const load = async () => ({ ...(await import('../core/spec/index.js')), ...(await import('./spec-summary.js')) });

interface Deps {
  globals: () => { json?: boolean };
  action: <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;
}

export function specCommands(program: Command, { globals, action }: Deps): void {
  const spec = program.command('spec').description("an app's description: berth.yml, or a docker-compose.yml (checked here, without the daemon)");
  spec.command('check [file]')
    .description('check berth.yml (default: ./berth.yml, else ./compose.yaml or ./docker-compose.yml) and print what it describes')
    .option('--compose', 'read FILE as a docker-compose.yml whatever its name')
    .option('--json', 'machine-readable output')
    .action(action(async (file: string | undefined, o: { compose?: boolean; json?: boolean }) => {
      const { checkAppSpec, SpecInvalid, specSummary } = await load();
      const json = !!(o.json || globals().json);
      // ${VAR} in a compose file takes the deploying user's environment, as compose does
      const r = checkAppSpec(file ?? '.', process.env, { compose: o.compose });
      if (!r.ok) {
        if (!json) r.warnings.forEach((w) => progress(`warning: ${w}`));
        throw new SpecInvalid(r.issues, r.warnings);
      }
      out(json, { file: r.path, files: r.files, spec: r.spec, warnings: r.warnings }, () => specSummary(r.files[0] ?? r.path, r.files, r.spec, r.warnings));
    }));
  spec.command('schema').description("print berth.yml's JSON Schema (docs/berth.schema.json; editors validate with it)")
    .action(action(async () => {
      process.stdout.write((await load()).berthJsonSchemaText());
    }));
}
