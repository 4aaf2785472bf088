// The password reset page (issue 23): reads the token from the link, takes it out of the address bar (so it is not
// kept in history or shown to anyone looking at the screen), and calls the confirm route. Same-origin only (CSP).
"use strict";

const token = new URLSearchParams(location.search).get("token") ?? "";
if (token) history.replaceState(null, "", location.pathname);

const form = document.getElementById("reset");
const status = document.getElementById("status");

function show(message, ok) {
  status.textContent = message;
  status.className = ok ? "ok" : "error";
}

if (!token) {
  form.hidden = true;
  show("This link is incomplete. Ask for a new password reset email.", false);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const body = { token, new_password: data.get("new_password"), new_password2: data.get("new_password2") };
  if (body.new_password !== body.new_password2) return show("The two passwords differ.", false);
  form.querySelector("button").disabled = true;
  try {
    const res = await fetch("/api/auth/password-reset/confirm/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      referrerPolicy: "no-referrer",
    });
    const answer = await res.json().catch(() => ({}));
    if (res.ok) {
      form.hidden = true;
      return show("Your password has been changed. You can now sign in with it.", true);
    }
    const messages = Object.values(answer).flat().filter((m) => typeof m === "string");
    show(messages.join(" ") || "Something went wrong. Please try again.", false);
  } catch {
    show("The shop could not be reached. Please try again.", false);
  } finally {
    form.querySelector("button").disabled = false;
  }
});
