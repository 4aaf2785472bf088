export function adminUpsertSql(account: { username: string; email: string; passwordHash: string }): string;
export function emailOwnerSql(email: string): string;
