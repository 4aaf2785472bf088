/** The cost meter's headers: the request's ask and the response's answer (see ./report.ts). */
export const COST_HEADER = "X-Cost";
export const COST_REQUEST_HEADER = "X-Cost-Report";
