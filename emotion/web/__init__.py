"""Web plumbing every app shares, importing no feature app: middleware (CSP, body limits, refused
text, sign-in throttling), the health and metrics registries the apps add to, log context."""
