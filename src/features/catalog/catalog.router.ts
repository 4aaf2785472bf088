import { createRouter } from "../../lib/openapi";

export const catalogRouter = createRouter();
