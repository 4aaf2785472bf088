/** Shared test helpers: HTTP calls through the Worker, users, admins and catalogue fixtures. */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import app from "../src/index";
import { db } from "../src/db/client";
import { createAdminUser } from "../src/features/auth/auth.service";
import { Contract, type ObservedResponse, type OpenApiDocument } from "./contract";

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw body, sent as is (for malformed JSON, webhook signatures and oversized or streamed bodies). */
  raw?: BodyInit;
  /** Bindings to run the app with instead of the real ones (a wrapped binding that injects a production failure). */
  env?: Env;
  /**
   * The test injects an infrastructure failure and expects the 500 it causes. A 500 is never documented (it is a
   * defect), so only such a test may see one without failing the contract check.
   */
  expectServerError?: boolean;
}

let counter = 0;
/** A name no other test in the file has used. */
export const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;

export async function api<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let body: BodyInit | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["Content-Type"] = "application/json";
  }
  const res = await send(new Request(`https://shop.test${path}`, { method, headers, body }), options.env);
  const text = await res.text();
  if (!(options.expectServerError && res.status === 500)) {
    await checkContract(method, path, { status: res.status, headers: res.headers, text }, requestJson(body));
  }
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // non-JSON bodies stay text, so a test can assert they never happen
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

let contract: Promise<Contract> | undefined;

/** The Worker's own /openapi.json, read once per test file. */
export function loadContract(): Promise<Contract> {
  contract ??= SELF.fetch("https://shop.test/openapi.json").then(async (res) => new Contract((await res.json()) as OpenApiDocument));
  return contract;
}

/** How many responses this test file checked against the document, and how many reached no documented operation. */
export const contractStats = { checked: 0, unchecked: 0 };

/** Fails the calling test when a response is not one the OpenAPI document describes (see test/contract.ts). */
export async function checkContract(method: string, path: string, res: ObservedResponse, requestBody?: unknown) {
  const problems = (await loadContract()).violations(method, path, res, requestBody);
  if (problems === undefined) {
    contractStats.unchecked++;
    return;
  }
  contractStats.checked++;
  if (problems.length > 0) {
    throw new Error(`Response to ${method} ${path} does not match the OpenAPI document:\n  ${problems.join("\n  ")}`);
  }
}

function requestJson(body: BodyInit | undefined): unknown {
  try {
    return typeof body === "string" ? JSON.parse(body) : undefined;
  } catch {
    return undefined; // not JSON: the server cannot have accepted it as JSON
  }
}

async function send(request: Request, bindings: Env | undefined): Promise<Response> {
  if (!bindings) return SELF.fetch(request);
  const ctx = createExecutionContext();
  // Bindings given (often wrapped to inject a fault): the request runs here with them, not across the hop to the data
  // side, which would use the real ones. The hop itself is tested in placement.test.ts.
  const res = await app.fetch(request, { ...bindings, DATA: undefined }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export const PASSWORD = "Sturdy-Passw0rd!";

export interface TestUser {
  id: number;
  username: string;
  email: string;
  password: string;
  access: string;
  refresh: string;
}

export async function registerUser(prefix = "user", headers: Record<string, string> = {}): Promise<TestUser> {
  const username = unique(prefix);
  const email = `${username}@example.com`;
  const res = await api("POST", "/api/auth/register/", {
    body: { username, email, password: PASSWORD, password2: PASSWORD, first_name: "Test", last_name: "User" },
    headers,
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, username, email, password: PASSWORD, ...res.body.tokens };
}

export async function login(username: string, password = PASSWORD, headers: Record<string, string> = {}) {
  return api("POST", "/api/auth/login/", { body: { username, password }, headers });
}

export async function createAdmin(): Promise<TestUser> {
  const username = unique("admin");
  const email = `${username}@example.com`;
  const user = await createAdminUser(db(env.DB), { username, email, password: PASSWORD });
  const res = await login(username);
  return { id: user.id, username, email, password: PASSWORD, ...res.body };
}

/** Creates a category through the admin API; `name` defaults to a unique one. */
export async function createCategory(adminToken: string, fields: Record<string, unknown> = {}) {
  const res = await api("POST", "/api/categories/", { token: adminToken, body: { name: unique("Category "), ...fields } });
  if (res.status !== 201) throw new Error(`create category failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: number; name: string; slug: string; parent: number | null };
}

/** Creates a product through the admin API (in a new category unless `category` is given). */
export async function createProduct(adminToken: string, fields: Record<string, unknown> = {}) {
  const category = fields.category ?? (await createCategory(adminToken)).id;
  const res = await api("POST", "/api/products/", {
    token: adminToken,
    body: { name: unique("Product "), price: "100.00", stock: 10, category, ...fields },
  });
  if (res.status !== 201) throw new Error(`create product failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: number; name: string; slug: string; price: string; stock: number; is_active: boolean };
}

/** The properties and required keys of an OpenAPI schema, following `$ref` and `allOf` (as `.extend` documents it). */
export function schemaProperties(doc: any, schema: any): { properties: Record<string, any>; required: string[] } {
  if (schema.$ref) return schemaProperties(doc, doc.components.schemas[schema.$ref.split("/").pop()]);
  const parts = (schema.allOf ?? []).map((part: any) => schemaProperties(doc, part));
  return {
    properties: Object.assign({}, ...parts.map((p: any) => p.properties), schema.properties),
    required: [...parts.flatMap((p: any) => p.required), ...(schema.required ?? [])],
  };
}
