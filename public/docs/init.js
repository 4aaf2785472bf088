// Starts Swagger UI on /docs. A file of its own, not an inline script, so the page's CSP can be script-src 'self'.
window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // Swagger UI would otherwise ask validator.swagger.io to check the document: a request to another origin.
  validatorUrl: null,
});
