import { createRouter } from "../../lib/openapi";

export const paymentsRouter = createRouter();
