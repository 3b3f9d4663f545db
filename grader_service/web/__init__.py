"""Tornado HTML pages beside the REST API: login, logout, the upstream OAuth callback, and the OAuth2
provider's consent, token and revoke endpoints (what they decide lives in auth/ and services/)."""
