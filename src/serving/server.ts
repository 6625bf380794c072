import { z } from 'zod';
import type { ServingDeps } from './deps';
import { buildServingApp } from './app';

export const ListenSchema = z.object({
  host: z.string().min(1),
  /** 0 picks a free port (tests, the staging skew check). */
  port: z.number().int().min(0).max(65535),
});
export type ListenOptions = z.input<typeof ListenSchema>;

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Stops accepting requests and waits for those in flight; the deps stay open (the caller's). */
  close(): Promise<void>;
}

export async function startServing(deps: ServingDeps, options: ListenOptions): Promise<RunningServer> {
  const { host, port } = ListenSchema.parse(options);
  const app = buildServingApp(deps);
  try {
    const url = await app.listen({ host, port });
    return { url, close: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  }
}
