// Finds the test database once per run: TRIBUTARY_TEST_POSTGRES_URL, or (outside CI only) one
// started by .ci/postgres.sh. In CI a missing URL fails every test that needs the database: the
// tests never skip.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    /** Why there is no URL, for the failing tests' message. */
    postgresProblem: string;
  }
}

const script = fileURLToPath(new URL('../../../.ci/postgres.sh', import.meta.url));

export default function setup(project: TestProject): void {
  let url = process.env.TRIBUTARY_TEST_POSTGRES_URL ?? '';
  let problem = '';
  if (url === '') {
    if (process.env.CI) {
      problem =
        'TRIBUTARY_TEST_POSTGRES_URL is not set: CI must start PostgreSQL first (eval "$(bash .ci/postgres.sh)")';
    } else {
      try {
        const out = execFileSync('bash', [script], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          timeout: 300_000,
        });
        url = /TRIBUTARY_TEST_POSTGRES_URL=(\S+)/.exec(out)?.[1] ?? '';
        if (url === '') problem = `.ci/postgres.sh printed no URL: ${out}`;
      } catch (err) {
        problem = `TRIBUTARY_TEST_POSTGRES_URL is not set and .ci/postgres.sh could not start PostgreSQL: ${(err as Error).message}`;
      }
    }
  }
  project.provide('postgresUrl', url);
  project.provide('postgresProblem', problem);
}
