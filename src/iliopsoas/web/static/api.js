// API page: Swagger UI (assets served from the swagger-ui-bundle-v2 wheel, no network) over /openapi.json,
// with "try it out" on; the API token of this tab, if any, is sent with every request.
"use strict";
(function () {
  document.addEventListener("DOMContentLoaded", () => {
    if (typeof window.SwaggerUIBundle !== "function") {
      window.ilio.fail("swagger-ui", new Error("Swagger UI is not installed (the swagger-ui-bundle-v2 package); the schema is at /openapi.json"));
      return;
    }
    window.SwaggerUIBundle({
      url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: false, // deep links nest a link in each button (axe: nested-interactive)
      tryItOutEnabled: true, validatorUrl: null,
      docExpansion: "list", defaultModelsExpandDepth: 0, displayRequestDuration: true,
      requestInterceptor: (req) => {
        const t = sessionStorage.getItem("iliopsoas-token");
        if (t) req.headers["Authorization"] = "Bearer " + t;
        return req;
      },
      onComplete: () => { document.body.dataset.swagger = "ready"; },
    });
  });
})();
