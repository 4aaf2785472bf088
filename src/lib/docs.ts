import { secureHeaders } from "hono/secure-headers";

/**
 * The /docs page: Swagger UI served from this Worker's static assets (public/docs/, the vendor files copied from the
 * swagger-ui-dist pinned in package-lock.json by scripts/copy-docs-assets.mjs), so the page loads nothing from
 * another origin, and its CSP forbids it to.
 */
export const docsHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Edge Shop API</title>
<link rel="icon" type="image/png" href="/docs/vendor/favicon-32x32.png">
<link rel="stylesheet" href="/docs/vendor/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/vendor/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

/** Only this origin, for everything; no inline script or style, no plugins, no framing. */
export const docsSecureHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
});
