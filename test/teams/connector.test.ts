/**
 * The edge's own Bot Connector client against a real HTTP server on 127.0.0.1: a kept-alive
 * connection the server closes under a post (the bench lost a summary this way while PGlite
 * held the bot's event loop past the server's keep-alive timeout).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { BotConnector, TeamsApiError } from "../../src/platforms/teams/connector.ts";

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A connector whose `drop` decides, per request, to close the connection instead of answering. */
async function connector(drop: (served: number, socketServed: number) => boolean) {
  const received: { method: string; url: string }[] = [];
  const served = new WeakMap<object, number>();
  server = createServer((req, res) => {
    const onSocket = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, onSocket);
    received.push({ method: req.method!, url: req.url! });
    if (drop(received.length, onSocket)) {
      req.socket.destroy();
      return;
    }
    req.resume();
    req.on("end", () => res.setHeader("content-type", "application/json").end(JSON.stringify({ id: `a${received.length}` })));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { client: new BotConnector(async () => undefined), serviceUrl, received };
}

describe("BotConnector", () => {
  it("a post on a kept-alive connection the server closes goes again on a new one, and is posted once", async () => {
    // Every connection's second request is cut off, as by a server closing an idle connection.
    const { client, serviceUrl, received } = await connector((_, onSocket) => onSocket > 1);
    expect(await client.send(serviceUrl, "19:c", { type: "message", text: "one" })).toEqual({ id: "a1" });
    // Once the first answer is read, its connection goes back to the pool and the next post takes it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await client.send(serviceUrl, "19:c", { type: "message", text: "two" })).toEqual({ id: "a3" });
    expect(received.map((r) => r.method)).toEqual(["POST", "POST", "POST"]);
  });

  it("goes again once only: a server that keeps closing is a network failure", async () => {
    const { client, serviceUrl, received } = await connector(() => true);
    const error = await client.send(serviceUrl, "19:c", { type: "message", text: "one" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TeamsApiError);
    expect((error as TeamsApiError).failure).toBe("network");
    expect((error as TeamsApiError).message).toBe("post failed: fetch failed");
    expect(received).toHaveLength(2);
  });

  it("a refused connection is not tried again (nothing is listening)", async () => {
    const { client, serviceUrl } = await connector(() => false);
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const error = await client.send(serviceUrl, "19:c", { type: "message" }).catch((e: unknown) => e);
    expect((error as TeamsApiError).failure).toBe("network");
    expect(((error as TeamsApiError).cause as { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
  });
});
