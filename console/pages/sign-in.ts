/** Sign-in: only staff get in; anyone else is told so and their new session is ended at once. */
import { useState } from "preact/hooks";
import { api, ApiFailure, isStaffToken, ok, publicApi, tokens } from "../api";
import { asFailure, FieldError, fieldProps, formText, html, Message } from "../ui";

const FORM = "sign-in";

export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: () => void }) {
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    setBusy(true);
    try {
      const pair = await ok(await publicApi.api.auth.login.index.$post({ json: { username: formText(form, "username"), password: formText(form, "password") } }));
      if (!isStaffToken(pair.access)) {
        // End the session the API just opened: this console is no use to it.
        const ended = await publicApi.api.auth.logout.index.$post({ json: { refresh: pair.refresh, all: false } }, { headers: { Authorization: `Bearer ${pair.access}` } });
        await ended.text();
        throw new ApiFailure(403, "This account is not an admin");
      }
      tokens.set(pair);
      onSignedIn();
    } catch (err) {
      setFailure(asFailure(err));
    } finally {
      setBusy(false);
    }
  }

  return html`<h1>Shop console</h1>
    <${Message} error=${failure?.fields && Object.keys(failure.fields).length ? null : failure} notice=${failure ? null : notice} />
    <form onSubmit=${submit} aria-label="Sign in" novalidate>
      <label for=${`${FORM}-username`}>Username</label>
      <input ...${fieldProps(failure, "username", FORM)} autocomplete="username" required />
      <${FieldError} failure=${failure} name="username" form=${FORM} />
      <label for=${`${FORM}-password`}>Password</label>
      <input ...${fieldProps(failure, "password", FORM)} type="password" autocomplete="current-password" required />
      <${FieldError} failure=${failure} name="password" form=${FORM} />
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>`;
}

/** Ends the session on the server (its refresh token is refused from now on), then forgets the tokens. */
export async function signOut() {
  const refresh = tokens.refresh;
  try {
    if (refresh) await (await api.auth.logout.index.$post({ json: { refresh, all: false } })).text();
  } finally {
    tokens.clear();
  }
}
