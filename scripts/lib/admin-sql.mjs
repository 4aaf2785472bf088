// The one SQL statement of `npm run create-admin` (scripts/create-admin.mjs); test/credentials.test.ts runs it against
// the real migrations. It changes only the account named by the username (case-insensitively): it creates it, or
// makes it staff with the new password (and email), and returns its id. If the email belongs to another account it
// changes nothing and returns no row (the script then refuses); should such an account appear between that check and
// the write, the email's unique index refuses the statement. Making an existing user staff or setting its password
// ends all its sessions and device tokens inside this same statement (trigger `users_credentials_changed`, 0007).

const quote = (s) => `'${String(s).replaceAll("'", "''")}'`;

/** @param {{ username: string, email: string, passwordHash: string }} account */
export function adminUpsertSql({ username, email, passwordHash }) {
  const [u, e, h] = [username, email, passwordHash].map(quote);
  return (
    `INSERT INTO users (username, email, password_hash, is_staff) SELECT ${u}, ${e}, ${h}, 1 ` +
    `WHERE NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(${e}) AND lower(username) <> lower(${u})) ` +
    `ON CONFLICT (lower(username)) DO UPDATE SET is_staff = 1, password_hash = excluded.password_hash, email = excluded.email ` +
    `RETURNING id`
  );
}

/** A read that tells the operator why nothing changed: the account the email belongs to. */
export function emailOwnerSql(email) {
  return `SELECT username FROM users WHERE lower(email) = lower(${quote(email)})`;
}
