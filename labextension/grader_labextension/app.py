"""GraderRelay: the jupyter-server extension app; its traits are the relay's whole configuration."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from traitlets import Enum, Float, Unicode, default

from grader_labextension.client import GraderServiceClient
from grader_labextension.git_actions import Workspace
from grader_labextension.handlers import relay_handlers
from grader_labextension.token_source import TokenSource


class GraderRelay(ExtensionApp):
    """Relays the user's requests to the grader service with the user's token; does the git work."""

    name = "grader_labextension"
    load_other_extensions = True

    service_url = Unicode(
        help="The grader service's URL as this server reaches it (env GRADER_SERVICE_URL), "
        "e.g. http://127.0.0.1:4010."
    ).tag(config=True)
    request_timeout = Float(30.0, help="Seconds to wait for the grader service.").tag(config=True)
    git_timeout = Float(300.0, help="Seconds one git command may take.").tag(config=True)
    token_source = Enum(
        ["auto", "env", "auth_state", "hub_token"],
        "auto",
        help="Where the user's grader token comes from: env (GRADER_API_TOKEN), auth_state (the "
        "Hub auth state's access_token), hub_token (the user's JupyterHub token, for the "
        "service's hub-token mode), auto (the first of these that is there).",
    ).tag(config=True)
    auth_state_key = Unicode("access_token", help="Key of the grader token in the Hub auth state.").tag(
        config=True
    )
    work_dir = Unicode(
        help="Where assignments are fetched to (<lecture>/<assignment>/); default: the server's root dir."
    ).tag(config=True)

    @default("service_url")
    def _service_url_default(self) -> str:
        return os.environ.get("GRADER_SERVICE_URL", "http://127.0.0.1:4010")

    @default("work_dir")
    def _work_dir_default(self) -> str:
        return str(Path(self.serverapp.root_dir).expanduser()) if self.serverapp else str(Path.home())

    def initialize_settings(self) -> None:
        # the relay's modules log through the server's handlers, at the server's level
        logging.getLogger("grader_labextension").parent = self.log
        tokens = TokenSource(
            self.token_source, auth_state_key=self.auth_state_key, timeout=self.request_timeout
        )
        client = GraderServiceClient(self.service_url, tokens, self.request_timeout)
        workspace = Workspace(Path(self.work_dir), client, self.git_timeout)
        self.settings.update({"grader_client": client, "grader_workspace": workspace})
        self.log.info(
            "Grader relay: service %s, token from %s, work dir %s",
            self.service_url,
            tokens.describe(),
            self.work_dir,
        )

    def initialize_handlers(self) -> None:
        self.handlers.extend(relay_handlers())
