import type { Client } from '@temporalio/client';
import { connectClient } from '../temporal/client';
import type { CommandContext } from './output';

/** Runs a command's work with a connected client, always closing the connection. */
export async function withClient<T>(ctx: CommandContext, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(ctx.config);
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}
