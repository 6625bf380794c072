/**
 * Runs every provisioner in turn, prints each one's line, and returns the variables the test processes
 * need. One that finds no route stops `npm test` before any test runs, with its one-line reason.
 */
import { cacheDir, type Provisioner } from './index';
import { provisionChromium } from './chromium';
import { provisionComposeValidator } from './compose';
import { provisionPostgres } from './postgres';
import { provisionRedis } from './redis';
import { provisionS3 } from './s3';

const PROVISIONERS: Record<string, Provisioner> = {
  postgres: provisionPostgres,
  redis: provisionRedis,
  chromium: provisionChromium,
  compose: provisionComposeValidator,
  s3: provisionS3,
};

export async function provisionAll(log: (line: string) => void): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const [name, provision] of Object.entries(PROVISIONERS)) {
    const result = await provision(cacheDir(), (line) => log(`${name}: ${line}`)).catch((error: Error) => {
      throw new Error(`cannot provision ${name}: ${error.message}`);
    });
    log(result.line);
    Object.assign(env, result.env);
  }
  return env;
}
