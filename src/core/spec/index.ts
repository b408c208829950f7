// An app's description: berth.yml, or a docker-compose.yml imported into the same model.
// Pure but for reading the files (load.ts); the model is plain data, kept per release as JSON.
export { checkAppSpec, findSpecFile, loadAppSpec, SPEC_FILES } from './load.js';
export { checkSpec, isComposeName, type Checked, type SpecInput } from './resolve.js';
export {
  berthJsonSchema, berthJsonSchemaText, type AppSpec, type BerthFileInput, type BuildSpec, type CronSpec, type HealthSpec, type ProcessSpec, type RouteSpec,
} from './schema.js';
export { DEFAULTS } from './defaults.js';
export { issueText, SpecInvalid, type SpecIssue } from './issues.js';
export { cronScheduleError } from './cron-syntax.js';
