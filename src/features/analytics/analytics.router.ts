import { createRouter } from "../../lib/openapi";

export const analyticsRouter = createRouter();
