import { createApp } from "./app";

export { Inventory } from "./inventory/inventory.do";
export { LoginGuard } from "./middleware/login-guard.do";

export default createApp();
