// Drives a live replikv through TypeScript types that openapi-typescript generated from
// openapi/replikv.json (./replikv.d.ts beside this file), with openapi-fetch as the client.
// Compiled with `tsc --strict` first: a path, a field or a body the document gets wrong is
// a compile error. Exits non-zero on the first mismatch. Arguments: BASE_URL TOKEN.
//
// Run by tests/it/control/typescript.rs against a master started with http-auth-token.
import createClient from "openapi-fetch";
import type { components, paths } from "./replikv.js";

type Problem = components["schemas"]["Problem"];

const [base, token] = process.argv.slice(2);
const anonymous = createClient<paths>({ baseUrl: base });
const operator = createClient<paths>({
  baseUrl: base,
  headers: { Authorization: `Bearer ${token}` },
});

function expect(cond: boolean, what: string): void {
  if (!cond) {
    console.error("client check failed: " + what);
    process.exit(1);
  }
}

function problem(error: Problem | undefined, status: number, response: Response, kind: string): void {
  expect(error !== undefined, `a problem document for ${kind}`);
  expect(response.status === status, `status ${response.status}, wanted ${status}`);
  expect(error?.type === "urn:replikv:problem:" + kind, `type ${error?.type}`);
}

async function main(): Promise<void> {
  const health = await anonymous.GET("/healthz");
  expect(health.data?.status === "ok", "healthz");

  const server = await anonymous.GET("/v1/server");
  expect(server.data?.role === "master", `role ${server.data?.role}`);
  expect(server.data?.dataset.keys === 2, "two keys");

  const replication = await operator.GET("/v1/replication");
  expect(replication.data?.replid.length === 40, "replid");
  expect(replication.data?.replicas.length === 0, "no replicas");

  const missing = await operator.GET("/v1/replication/replicas/{id}", {
    params: { path: { id: 12345 } },
  });
  problem(missing.error, 404, missing.response, "unknown-replica");

  const syncs = await operator.GET("/v1/replication/syncs", {
    params: { query: { limit: 10, side: "master" } },
  });
  expect(syncs.data?.syncs.length === 0, "no syncs");

  const refused = await anonymous.PATCH("/v1/config", { body: { maxclients: "321" } });
  problem(refused.error, 401, refused.response, "unauthorized");
  const changed = await operator.PATCH("/v1/config", { body: { maxclients: "321" } });
  expect(changed.data?.directives[0]?.value === "321", "patched");
  const bad = await operator.PATCH("/v1/config", { body: { maxclients: "lots" } });
  problem(bad.error, 422, bad.response, "invalid-field");

  const resync = await operator.POST("/v1/replication/resync");
  problem(resync.error, 409, resync.response, "conflict");
  console.log("client OK");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
