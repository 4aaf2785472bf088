/**
 * The shop console: sign-in, the navigation and the page of the current hash route. Each page loads its own data
 * (at most two API calls), shows it, and reloads after a change; there is no other state.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./style.css";
import { isStaffToken, tokens, whenSignedOut } from "./api";
import { Categories } from "./pages/categories";
import { Dashboard } from "./pages/dashboard";
import { LowStock } from "./pages/low-stock";
import { OrderDetail, Orders } from "./pages/orders";
import { ProductEdit, Products } from "./pages/products";
import { SignIn, signOut } from "./pages/sign-in";
import { currentRoute, html } from "./ui";

const NAV = [
  ["/", "Dashboard"],
  ["/products", "Products"],
  ["/categories", "Categories"],
  ["/orders", "Orders"],
  ["/low-stock", "Low stock"],
] as const;

function page(path: string, params: URLSearchParams) {
  const [, section, id] = path.split("/");
  switch (section) {
    case "":
      return html`<${Dashboard} />`;
    case "products":
      return id ? html`<${ProductEdit} id=${id} />` : html`<${Products} params=${params} />`;
    case "categories":
      return html`<${Categories} />`;
    case "orders":
      return id ? html`<${OrderDetail} id=${Number(id)} />` : html`<${Orders} params=${params} />`;
    case "low-stock":
      return html`<${LowStock} />`;
    default:
      return html`<h1>Not found</h1><p>No page here. <a href="#/">Go to the Dashboard</a>.</p>`;
  }
}

function Console() {
  const [signedIn, setSignedIn] = useState(() => Boolean(tokens.access && isStaffToken(tokens.access)));
  const [notice, setNotice] = useState<string | null>(null);
  const [route, setRoute] = useState(currentRoute);

  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    addEventListener("hashchange", onHash);
    whenSignedOut((message) => {
      setNotice(message);
      setSignedIn(false);
    });
    return () => removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    const name = NAV.find(([path]) => path === `/${route.path.split("/")[1]}`)?.[1];
    document.title = `${signedIn ? (name ?? "Shop console") : "Sign in"} · Shop console`;
  }, [route, signedIn]);

  if (!signedIn) {
    return html`<main id="main" class="sign-in">
      <${SignIn} notice=${notice} onSignedIn=${() => (setNotice(null), setSignedIn(true))} />
    </main>`;
  }
  const section = `/${route.path.split("/")[1]}`;
  return html`
    <header>
      <p class="brand">Shop console</p>
      <nav aria-label="Main">
        <ul>
          ${NAV.map(
            ([path, label]) =>
              html`<li><a href=${`#${path}`} aria-current=${section === path ? "page" : undefined}>${label}</a></li>`,
          )}
        </ul>
      </nav>
      <button type="button" class="sign-out" onClick=${async () => {
        await signOut();
        setNotice("You are signed out.");
        setSignedIn(false);
      }}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">${page(route.path, route.params)}</main>`;
}

render(html`<${Console} />`, document.getElementById("app")!);
