/**
 * What the Postman collections are generated from: the API's own OpenAPI document (the one `GET /openapi.json` serves),
 * read here into operations, plus the copy of it that Portman converts. Nothing in the collections is kept by hand, so
 * a route another change adds is in them the next time they are generated.
 */

const METHODS = ["get", "put", "post", "delete", "patch"];

/**
 * Every operation: method, path template, operationId, its security (`public`, `optional` = token or none, `bearer`),
 * whether it is admin-only (it documents 403), its path and query parameters and its JSON body schema.
 */
export function operations(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const security = op.security ?? doc.security ?? [];
      const bearer = security.some((s) => "Bearer" in s);
      const anonymous = security.length === 0 || security.some((s) => Object.keys(s).length === 0);
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      ops.push({
        method: method.toUpperCase(),
        path,
        ref: `${method.toUpperCase()}::${path}`,
        operationId: op.operationId,
        auth: !bearer ? "public" : anonymous ? "optional" : "bearer",
        admin: "403" in op.responses,
        pathParams: params.filter((p) => p.in === "path"),
        queryParams: params.filter((p) => p.in === "query"),
        body: resolve(doc, op.requestBody?.content?.["application/json"]?.schema),
        responses: op.responses,
      });
    }
  }
  return ops;
}

/** A schema with its top-level `$ref` followed (request bodies are `$ref`s to components). */
export function resolve(doc, schema) {
  let s = schema;
  for (let i = 0; s?.$ref && i < 10; i++) s = s.$ref.split("/").slice(1).reduce((o, k) => o?.[k], doc);
  return s;
}

const typesOf = (schema) => (schema?.type === undefined ? [] : [schema.type].flat());

/**
 * A JSON value the schema's `type` does not allow (integer for a string, a string for a number, ...), or undefined
 * when the schema allows every type.
 */
export function wrongTypeValue(schema) {
  const types = new Set(typesOf(schema));
  if (types.size === 0) return undefined;
  if (types.has("number")) types.add("integer");
  const candidates = [
    ["string", "not-a-valid-value"],
    ["integer", 12345],
    ["boolean", true],
    ["array", ["x"]],
    ["object", { x: 1 }],
  ];
  return candidates.find(([type]) => !types.has(type))?.[1];
}

/**
 * The copy of the document Portman converts. Portman's fuzzer reads OpenAPI 3.0 schemas, so three 3.1 / JSON Schema
 * forms are narrowed for it (the contract checks themselves use the document as served, see checks.mjs):
 * - `not: {required: [a, b]}` (two fields that exclude each other) would be read as "a and b are required" and fuzzed
 *   by removing them, which leaves a valid request: dropped here; the pair is tested by a variation of its own.
 * - a `type` array with an `object` branch (`category`: an id or the nested Category) keeps its scalar branch, so the
 *   fuzzer does not "remove the required `id`" of an object that was never sent;
 * - `type: [T, "null"]` becomes `T` with `nullable: true`, which the fuzzer's min/max/length rules understand.
 * The self-referencing Category schema needs nothing here: Portman converts it with `--ignoreCircularRefs`, and the
 * response checks resolve `$ref`s against the document's components at run time instead of inlining them.
 */
export function forPortman(doc) {
  const copy = structuredClone(doc);
  copy.openapi = "3.0.3";
  const visit = (node) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    if (node.not && typeof node.not === "object" && Array.isArray(node.not.required)) delete node.not;
    if (Array.isArray(node.type)) {
      const types = node.type.filter((t) => t !== "null");
      if (types.length < node.type.length) node.nullable = true;
      const scalar = types.find((t) => t !== "object") ?? types[0];
      if (scalar !== "object" && types.includes("object")) {
        delete node.properties;
        delete node.required;
      }
      node.type = scalar;
    }
    Object.values(node).forEach(visit);
  };
  visit(copy.paths);
  visit(copy.components);
  return copy;
}

/** A request's path parameter value that names nothing: a huge id, or a slug no fixture uses. */
export function unknownValue(param) {
  return typesOf(param.schema).includes("integer") ? "999999999" : `no-such-${param.name}-0`;
}
