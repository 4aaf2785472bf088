import { createRouter } from "../../lib/openapi";

export const cartRouter = createRouter();
