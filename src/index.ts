import { createApp } from "./app";

export { Inventory } from "./inventory/inventory.do";
export { LoginGuard } from "./features/auth/login-guard.do";

export default createApp();
