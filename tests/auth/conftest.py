"""Fixtures of the login and OAuth2 provider tests.

- ``oauth_service`` (module, per backend): a real grader service with DevAuthenticator (shared password
  ``dev-password``) and two OAuth clients: ``consent-app`` (asks for consent) and ``hub`` (skips consent).
  ``oauth_service.clients`` holds their client_id → (secret, redirect_uri).
- ``demo_lecture`` (function): a lecture code with a released assignment; ``oauth_service`` users get
  roles in it through groups/load_roles in some tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import ServiceProcess, free_port

DEV_PASSWORD = "dev-password"
CLIENTS = {
    "consent-app": ("consent-app-secret-0123456789", f"http://127.0.0.1:{free_port()}/cb"),
    "hub": ("hub-client-secret-0123456789", f"http://127.0.0.1:{free_port()}/hub/oauth_callback"),
}


@pytest.fixture(scope="module")
def oauth_service(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    data_dir = tmp_path_factory.mktemp("oauth-data")
    svc = ServiceProcess(
        db_url=db_url,
        data_dir=data_dir,
        admin_users={"config-admin"},
        authenticator_class="grader_service.auth.authenticators.DevAuthenticator",
        oauth_clients=[
            {
                "client_id": "consent-app",
                "client_secret": CLIENTS["consent-app"][0],
                "redirect_uri": CLIENTS["consent-app"][1],
                "name": "Consent App",
            },
            {
                "client_id": "hub",
                "client_secret": CLIENTS["hub"][0],
                "redirect_uri": CLIENTS["hub"][1],
                "skip_consent": True,
            },
        ],
        oauth_code_ttl=60,
        oauth_token_ttl=3600,
    )
    svc.app.config.DevAuthenticator.password = DEV_PASSWORD
    svc.clients = CLIENTS  # type: ignore[attr-defined]
    svc.start()
    try:
        yield svc
    finally:
        svc.stop()
