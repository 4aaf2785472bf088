/**
 * The contract check every request of the test:contract collections runs (a collection-level Postman test script,
 * so newman runs it after each request, the generated variations included). From the OpenAPI document as served:
 * - no 5xx; the route is in the document; the status is documented for it;
 * - a documented body's Content-Type, and the body against the documented schema of that status (errors included:
 *   DetailError, MessageError, FieldErrors per route), or no body where none is documented;
 * - what the variation's name promises: `[fuzz]` and `[wrong type ...]` requests are invalid, so 4xx (a 2xx is an
 *   invalid request accepted); `[no token]` is 401, `[non-admin]` 403, `[unknown id]` 404; a request in `walk` is 2xx.
 *
 * Schemas are checked by the Postman sandbox's own validator (`pm.response.to.have.jsonSchema`, Ajv, draft-07), which
 * understands the document's OpenAPI 3.1 type arrays (`["string", "null"]`) as they are. `$ref`s are not inlined: each
 * schema is checked with the document's `components` beside it, so the self-referencing Category (children: [Category])
 * is validated to any depth instead of being cut off or skipped, as Portman's inlined schema tests do.
 */
import { operations } from "./document.mjs";

/** The script's text: the document's routes and components, then the check. */
export function contractCheckScript(doc, { walk = [] } = {}) {
  const ops = operations(doc)
    .map((op) => ({
      method: op.method,
      path: op.path,
      params: op.pathParams.length,
      pattern: `^${op.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`,
      responses: Object.fromEntries(
        Object.entries(op.responses).map(([status, r]) => [
          status,
          {
            media: Object.keys(r.content ?? {}),
            schema: r.content?.["application/json"]?.schema ?? null,
            headers: Object.entries(r.headers ?? {}).filter(([, h]) => h.required).map(([name]) => name),
          },
        ]),
      ),
    }))
    // A literal segment wins over a parameter, as in the router: /api/products/featured/ is not /api/products/{id}/.
    .sort((a, b) => a.params - b.params);
  const contract = { ops, components: doc.components, walk };
  return `(${check.toString()})(${JSON.stringify(contract)});`;
}

/* global pm */
/** Runs inside the Postman sandbox: only `pm` and plain JavaScript here. */
function check(contract) {
  const name = pm.info.requestName;
  const method = pm.request.method;
  const path = `/${pm.request.url.path.join("/")}`;
  const code = pm.response.code;
  const op = contract.ops.find((o) => o.method === method && new RegExp(o.pattern).test(path));
  const where = `${method} ${op ? op.path : path} ${code}`;
  pm.test(`${where}: not a 5xx`, () => pm.expect(code, pm.response.text().slice(0, 300)).to.be.below(500));
  if (!op) {
    pm.test(`${where}: the route is in the document`, () => pm.expect.fail(`${method} ${path} is not in /openapi.json`));
    return;
  }
  const documented = op.responses[String(code)] || op.responses[`${String(code)[0]}XX`] || op.responses.default;
  pm.test(`${where}: the status is documented`, () =>
    pm.expect(documented, `documented: ${Object.keys(op.responses).join(", ")}; body: ${pm.response.text().slice(0, 200)}`).to.be.an("object"),
  );
  if (documented) {
    const text = pm.response.text();
    const type = (pm.response.headers.get("Content-Type") || "").split(";")[0].trim().toLowerCase();
    if (documented.media.length === 0) {
      pm.test(`${where}: no body, as documented`, () => pm.expect(text).to.equal(""));
    } else {
      pm.test(`${where}: the Content-Type is documented`, () => pm.expect(documented.media).to.include(type));
      if (type === "application/json" && documented.schema) {
        pm.test(`${where}: the body matches the documented schema`, () => {
          pm.response.to.have.jsonSchema(Object.assign({}, documented.schema, { components: contract.components }));
        });
      }
    }
    for (const header of documented.headers) {
      pm.test(`${where}: the documented header ${header} is sent`, () => pm.expect(pm.response.headers.has(header)).to.equal(true));
    }
  }
  const expectStatus = (label, ok) => pm.test(`${where}: ${label}`, () => pm.expect(ok(code), `${name}: ${pm.response.text().slice(0, 200)}`).to.equal(true));
  if (/\[fuzz\]|\[wrong type |\[invalid /.test(name)) expectStatus("the invalid request is refused with a 4xx, not accepted", (c) => c >= 400 && c < 500);
  if (name.includes("[no token]")) expectStatus("without a token: 401", (c) => c === 401);
  if (name.includes("[non-admin]")) expectStatus("with a non-admin token: 403", (c) => c === 403);
  if (name.includes("[unknown id]")) expectStatus("an id that names nothing: 404", (c) => c === 404);
  if (contract.walk.includes(`${method}::${op.path}`) && !name.includes("[")) expectStatus("a step of the walk succeeds (2xx)", (c) => c >= 200 && c < 300);
}
