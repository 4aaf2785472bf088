/**
 * `npm run test:contract`: the API as a client that validates sees it. Starts a `wrangler dev` of its own (free port,
 * fresh local state, a Razorpay stand-in), creates an admin and a user, reads `/openapi.json` from it, has Portman
 * generate a collection from that document (every operation, Portman's fuzzing variations, and our batteries:
 * wrong types, no token, non-admin token, unknown id), runs it with newman, and fails on any 5xx, undocumented status,
 * body outside its schema, or invalid request accepted (see checks.mjs). The people's collection (`npm run postman`)
 * is generated from the same document and walked first: register -> log in -> browse -> cart -> order -> pay.
 * Everything is generated from the document, so a route added later is covered without touching this script.
 */
import { existsSync, readFileSync } from "node:fs";
import newman from "newman";
import { contractCheckScript } from "./checks.mjs";
import { startDevServer } from "./dev-server.mjs";
import { forPortman, operations, resolve, unknownValue, wrongTypeValue } from "./document.mjs";
import { peopleCollection, WALK, countRequests } from "./people.mjs";
import { eachRequest, runPortman, setBearer } from "./portman.mjs";
import { startRazorpayStub } from "./razorpay-stub.mjs";

const started = Date.now();
const PASSWORD = "Sunny-Harbour-4821";
const PEOPLE_FILE = "docs/postman/edge-shop-api.postman_collection.json";
const log = (message) => console.log(`[contract ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);

const razorpay = await startRazorpayStub();
const server = await startDevServer({
  vars: {
    RAZORPAY_KEY_ID: "rzp_test_contract",
    RAZORPAY_KEY_SECRET: "contract-key-secret",
    RAZORPAY_WEBHOOK_SECRET: "contract-webhook-secret",
    RAZORPAY_API_BASE: razorpay.url,
  },
});
let failed = true;
try {
  log(`wrangler dev at ${server.url}`);
  const doc = await (await fetch(`${server.url}/openapi.json`)).json();
  const fixtures = await createFixtures(server);
  log(`fixtures: admin ${fixtures.admin.username}, user ${fixtures.user.username}, category 1, product 1, address 1, order 1`);

  const people = peopleCollection(doc);
  const committed = existsSync(PEOPLE_FILE) ? readFileSync(PEOPLE_FILE, "utf8") : "";
  if (committed !== `${JSON.stringify(people, null, 2)}\n`) {
    // A warning, not a failure: a route added without regenerating must not fail CI; the walk below runs the fresh one.
    log(`warning: ${PEOPLE_FILE} differs from what the served document generates: run npm run postman and commit it`);
  }
  people.event = [testEvent(contractCheckScript(doc, { walk: WALK }))];
  people.variable = [{ key: "baseUrl", value: server.url }];
  const walk = await run(people, { username: "contract-shopper", email: "contract-shopper@example.com", password: PASSWORD });
  log(`people's collection: ${summaryLine(walk)}`);

  const collection = contractCollection(doc);
  collection.event = [testEvent(contractCheckScript(doc))];
  collection.variable = Object.entries({
    baseUrl: server.url,
    adminToken: fixtures.admin.access,
    userToken: fixtures.user.access,
    userUsername: fixtures.user.username,
    userPassword: PASSWORD,
  }).map(([key, value]) => ({ key, value }));
  log(`contract collection: ${countRequests(collection.item)} requests (${kinds(collection)})`);
  const contract = await run(collection, {});
  log(`contract collection: ${summaryLine(contract)}`);
  log(`statuses by kind of request: ${statusesByKind(contract)}`);

  const failures = [...walk.run.failures, ...contract.run.failures];
  for (const f of failures.slice(0, 80)) console.error(`FAIL ${f.source?.name ?? "?"}\n     ${f.error?.test ?? ""}: ${f.error?.message ?? f.error}`);
  if (failures.length > 80) console.error(`... and ${failures.length - 80} more`);
  const assertions = walk.run.stats.assertions.total + contract.run.stats.assertions.total;
  log(`${failures.length ? "FAILED" : "passed"}: ${assertions} assertions, ${failures.length} failed`);
  failed = failures.length > 0;
} catch (err) {
  console.error(err);
  console.error(server.log().slice(-4000));
} finally {
  server.stop();
  razorpay.stop();
}
process.exit(failed ? 1 : 0);

/** The admin and the user the batteries need, and one of each resource, so the documented examples (id 1) exist. */
async function createFixtures({ url, sql }) {
  const call = async (method, path, body, token) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => null);
    if (!res.ok) throw new Error(`fixture ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const register = async (username) => {
    const email = `${username}@example.com`;
    const body = { username, email, password: PASSWORD, password2: PASSWORD, first_name: "Contract", last_name: "Test" };
    return { username, ...(await call("POST", "/api/auth/register/", body)).tokens };
  };
  await register("contract-admin");
  // Staff is set in D1 directly, as create-admin does; the login after it carries the role.
  sql("UPDATE users SET is_staff = 1 WHERE username = 'contract-admin'");
  const admin = { username: "contract-admin", ...(await call("POST", "/api/auth/login/", { username: "contract-admin", password: PASSWORD })) };
  const user = await register("contract-user");
  const category = await call("POST", "/api/categories/", { name: "Contract fixtures" }, admin.access);
  const product = await call("POST", "/api/products/", { name: "Contract kettle", price: "100.00", stock: 1000, category: category.id }, admin.access);
  const address = { street_address: "1 Test Road", city: "Pune", state: "MH", postal_code: "411001", address_type: "shipping" };
  const saved = await call("POST", "/api/auth/addresses/", address, user.access);
  await call("POST", "/api/cart/add/", { product_id: product.id, quantity: 1 }, user.access);
  await call("POST", "/api/orders/create_order/", { shipping_address_id: saved.id }, user.access);
  await call("POST", "/api/cart/add/", { product_id: product.id, quantity: 2 }, user.access);
  return { admin, user };
}

/**
 * Portman's collection of every operation plus the variations. Tokens are set afterwards, per request, from the
 * operation and the variation: an admin's for admin-only operations, the user's for the rest, none for `[no token]`.
 */
function contractCollection(doc) {
  const ops = operations(doc);
  const variation = (name, targets, response, extra = {}) =>
    targets.length ? { openApiOperationIds: targets.map((op) => op.operationId), openApiResponse: response, variations: [{ name, tests: { contractTests: [] }, ...extra }] } : null;
  const fuzzing = [
    ["requestBody", ["requiredFields", "minimumNumberFields", "maximumNumberFields", "minLengthFields", "maxLengthFields"]],
    ["requestQueryParams", ["requiredFields", "minimumNumberFields", "maximumNumberFields", "minLengthFields", "maxLengthFields"]],
  ];
  const variationTests = [
    {
      openApiOperation: "*::/*",
      openApiResponse: "400",
      variations: [
        {
          name: "fuzz",
          tests: { contractTests: [] },
          fuzzing: [Object.fromEntries(fuzzing.map(([where, kinds]) => [where, [Object.fromEntries(kinds.map((k) => [k, { enabled: true }]))]]))],
        },
      ],
    },
    variation("no token", ops.filter((op) => op.auth === "bearer"), "401"),
    variation("non-admin", ops.filter((op) => op.admin), "403"),
  ];
  const mainOverwrites = [];
  for (const op of ops) {
    // Fields that exclude each other (`not: {required: [a, b]}`): Portman's example body has both, so every request
    // but the one that tests the rule leaves out all but the first.
    const together = Array.isArray(op.body?.not?.required) ? op.body.not.required : [];
    const apart = together.slice(1).map((key) => ({ key, remove: true }));
    if (apart.length) mainOverwrites.push({ openApiOperationId: op.operationId, overwriteRequestBody: apart });
    const body = (values) => ({ overwriteRequestBody: [...apart.filter((a) => !values.some((v) => v.key === a.key)), ...values] });
    if (op.pathParams.length) {
      const values = op.pathParams.map((p) => ({ key: p.name, value: unknownValue(p) }));
      const overwrites = [{ overwriteRequestPathVariables: values, ...(apart.length ? body([]) : {}) }];
      variationTests.push(variation("unknown id", [op], "404", { overwrites }));
    }
    for (const [key, schema] of Object.entries(op.body?.properties ?? {})) {
      const value = wrongTypeValue(resolve(doc, schema));
      if (value === undefined || resolve(doc, schema)?.readOnly) continue;
      variationTests.push(variation(`wrong type ${key}`, [op], "400", { overwrites: [body([{ key, value }])] }));
    }
    for (const param of op.queryParams) {
      if (![param.schema?.type].flat().some((t) => t === "integer" || t === "number")) continue;
      const overwrite = { overwriteRequestQueryParams: [{ key: param.name, value: "not-a-number" }] };
      variationTests.push(variation(`wrong type ${param.name}`, [op], "400", { overwrites: [overwrite] }));
    }
    if (together.length) {
      const example = { stock: 1, stock_adjustment: 1 };
      const values = together.map((key) => ({ key, value: example[key] ?? 1 }));
      variationTests.push(variation(`invalid ${together.join(" with ")}`, [op], "400", { overwrites: [{ overwriteRequestBody: values }] }));
    }
  }
  const config = {
    version: 1.0,
    globals: { stripResponseExamples: true },
    overwrites: [
      ...mainOverwrites,
      ...(ops.some((op) => op.operationId === "login")
        ? [{ openApiOperationId: "login", overwriteRequestBody: [{ key: "username", value: "{{userUsername}}" }, { key: "password", value: "{{userPassword}}" }] }]
        : []),
    ],
    tests: { variationTests: variationTests.filter(Boolean) },
  };
  const collection = runPortman(forPortman(doc), config);
  delete collection.auth;
  eachRequest(collection, ops, (item, op) => {
    if (!op || op.auth === "public" || item.name.includes("[no token]")) return setBearer(item, null);
    setBearer(item, op.admin && !item.name.includes("[non-admin]") ? "adminToken" : "userToken");
  });
  return collection;
}

function testEvent(script) {
  return { listen: "test", script: { type: "text/javascript", exec: script.split("\n") } };
}

/** Runs a collection with newman (no reporter: the failures are printed at the end); resolves with its summary. */
function run(collection, environment) {
  const envVar = Object.entries(environment).map(([key, value]) => ({ key, value }));
  return new Promise((resolve, reject) =>
    newman.run({ collection, envVar, reporters: [], timeoutRequest: 30_000 }, (err, summary) => (err ? reject(err) : resolve(summary))),
  );
}

function summaryLine(summary) {
  const { requests, assertions } = summary.run.stats;
  return `${requests.total} requests, ${assertions.total} assertions, ${assertions.failed} failed`;
}

/** How each kind of request was answered, e.g. `fuzz 400x160 404x7`: what the invalid requests were refused with. */
function statusesByKind(summary) {
  const byKind = {};
  for (const { item, response } of summary.run.executions) {
    const kind = kindOf(item.name);
    const code = response?.code ?? "none";
    (byKind[kind] ??= {})[code] = (byKind[kind][code] ?? 0) + 1;
  }
  return Object.entries(byKind)
    .map(([kind, codes]) => `${kind} ${Object.entries(codes).map(([code, n]) => `${code}x${n}`).join(" ")}`)
    .join("; ");
}

function kindOf(name) {
  return /\[(fuzz|wrong type|no token|non-admin|unknown id|invalid)/.exec(name)?.[1] ?? "operation";
}

function kinds(collection) {
  const counts = {};
  const visit = (items) => {
    for (const item of items) {
      if (item.item) visit(item.item);
      else {
        const kind = kindOf(item.name);
        counts[kind] = (counts[kind] ?? 0) + 1;
      }
    }
  };
  visit(collection.item);
  return Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ");
}
