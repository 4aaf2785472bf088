import { createRouter } from "../../lib/openapi";

export const ordersRouter = createRouter();
