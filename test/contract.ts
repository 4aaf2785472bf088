/**
 * The contract check `api()` runs on every response: the Worker's own /openapi.json must describe it. The status must
 * be documented for that path and method, the body must match the documented schema (or be empty when none is
 * documented), and documented required headers must be present. A JSON request body the server accepted (2xx) must
 * match the documented request schema too, so the document never refuses what the server takes. Schemas are interpreted by @cfworker/json-schema,
 * which generates no code: workerd refuses `eval`/`new Function`, which Ajv's compiler needs.
 */
import { type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";

export interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject>>;
  components?: Record<string, unknown>;
}

interface OperationObject {
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses: Record<string, ResponseObject>;
}

interface ResponseObject {
  description: string;
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, { schema?: Schema }>;
}

export interface ObservedResponse {
  status: number;
  headers: Headers;
  /** The body as received. */
  text: string;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  params: number;
  operation: OperationObject;
}

const METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options", "trace"]);

/** Checks responses against one OpenAPI document. */
export class Contract {
  private readonly routes: Route[];
  private readonly validators = new Map<string, Validator>();

  constructor(private readonly doc: OpenApiDocument) {
    this.routes = Object.entries(doc.paths).flatMap(([template, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.has(method))
        .map(([method, operation]) => ({
          method: method.toUpperCase(),
          template,
          pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
          params: (template.match(/\{/g) ?? []).length,
          operation,
        })),
    );
    // A literal segment wins over a parameter, as in the router: `/api/products/featured/` is not `/api/products/{id}/`.
    this.routes.sort((a, b) => a.params - b.params);
  }

  /** The documented operation a request reaches, or undefined for paths and methods the document does not list. */
  route(method: string, path: string): Route | undefined {
    const pathname = new URL(path, "https://contract.invalid").pathname;
    return this.routes.find((r) => r.method === method.toUpperCase() && r.pattern.test(pathname));
  }

  /**
   * What is wrong with a response to `method path`, as readable lines; empty when the document describes it.
   * Returns undefined when the request reaches no documented operation (e.g. /docs, an unknown path), so nothing
   * could be checked.
   */
  violations(method: string, path: string, res: ObservedResponse, requestBody?: unknown): string[] | undefined {
    const route = this.route(method, path);
    if (!route) return undefined;
    const where = `${route.method} ${route.template}`;
    const documented = route.operation.responses;
    const key = [String(res.status), `${String(res.status)[0]}XX`, "default"].find((k) => k in documented);
    if (!key) {
      return [`status ${res.status} is not documented for ${where} (documented: ${Object.keys(documented).join(", ")})`];
    }
    const spec = documented[key];
    const problems: string[] = [];
    const requestSchema = route.operation.requestBody?.content?.["application/json"]?.schema;
    if (res.status < 300 && requestBody !== undefined && requestSchema) {
      const result = this.validator(`${where} request`, requestSchema).validate(requestBody);
      if (!result.valid) {
        const accepted = `${where} ${res.status}: the server accepted a request body the document refuses`;
        problems.push(...leafErrors(result.errors).map((e) => `${accepted}: body${e.instanceLocation.slice(1)}: ${e.error}`));
      }
    }
    for (const [name, header] of Object.entries(spec.headers ?? {})) {
      if (header.required && !res.headers.has(name)) problems.push(`${where} ${res.status}: required header ${name} is missing`);
    }
    const media = Object.keys(spec.content ?? {});
    if (media.length === 0) {
      if (res.text !== "") problems.push(`${where} ${res.status}: a body was sent, but none is documented: ${res.text.slice(0, 200)}`);
      return problems;
    }
    const contentType = (res.headers.get("Content-Type") ?? "").split(";")[0].trim().toLowerCase();
    if (!media.includes(contentType)) {
      problems.push(`${where} ${res.status}: Content-Type "${contentType}" is not documented (documented: ${media.join(", ")})`);
      return problems;
    }
    if (contentType !== "application/json") return problems;
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      problems.push(`${where} ${res.status}: the body is not JSON: ${res.text.slice(0, 200)}`);
      return problems;
    }
    const result = this.validator(`${where} ${key}`, spec.content!["application/json"].schema!).validate(body);
    if (!result.valid) {
      problems.push(...leafErrors(result.errors).map((e) => `${where} ${res.status}: body${e.instanceLocation.slice(1)}: ${e.error}`));
    }
    return problems;
  }

  private validator(key: string, schema: Schema): Validator {
    let validator = this.validators.get(key);
    if (!validator) {
      // The schema refers to `#/components/...`: give it the document's components as its own.
      validator = new Validator(structuredClone({ ...schema, components: this.doc.components }), "2020-12", false);
      this.validators.set(key, validator);
    }
    return validator;
  }
}

/** The innermost errors: cfworker also reports every enclosing keyword ("properties", "$ref", ...) that failed. */
function leafErrors(errors: OutputUnit[]): OutputUnit[] {
  const leaves = errors.filter(
    (e) => !errors.some((o) => o !== e && o.keywordLocation.startsWith(`${e.keywordLocation}/`) && o.instanceLocation.startsWith(e.instanceLocation)),
  );
  return (leaves.length > 0 ? leaves : errors).slice(0, 5);
}
