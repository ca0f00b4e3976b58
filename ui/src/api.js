// The gateway's API, relative to where the page is served (<prefix>/ui/graph: the API is <prefix>/), so the
// page works behind a path prefix. A bearer token, when the gateway asks for one, lives in sessionStorage only.

const TOKEN_KEY = "kubevirt-gateway.token";
const root = new URL("../", window.location.href);

export class NeedsToken extends Error {}

// The gateway's own path of an href. Under the aggregated API path the gateway writes its hrefs with that
// prefix; behind any other prefix they come without it.
export function path(href) {
  const prefix = root.pathname.replace(/\/$/, "");
  return prefix && href.startsWith(`${prefix}/`) ? href.slice(prefix.length) : href;
}

export function url(href) {
  // a gateway path, resolved below the page's prefix
  return new URL(path(href).replace(/^\/+/, ""), root);
}

export const token = {
  get: () => window.sessionStorage.getItem(TOKEN_KEY),
  set: (value) => window.sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => window.sessionStorage.removeItem(TOKEN_KEY),
};

// A response, any status but 401, which throws NeedsToken with the gateway's message.
export async function request(href, { signal, accept = "application/json" } = {}) {
  const headers = { Accept: accept };
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const response = await fetch(url(href), { headers, signal, cache: "no-store" });
  if (response.status === 401) {
    const body = await response.json().catch(() => ({}));
    throw new NeedsToken(body.message || "this gateway needs a bearer token");
  }
  return response;
}

export async function message(response) {
  const body = await response.json().catch(() => null);
  return (body && body.message) || `${response.status} ${response.statusText}`;
}

export async function getJson(href, options) {
  const response = await request(href, options);
  if (!response.ok) throw new Error(await message(response));
  return response.json();
}
