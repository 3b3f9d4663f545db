"""Base of the admin subcommands: reads the same config as the service (-f, environment)."""

from __future__ import annotations

from traitlets.config import Application, Config

from grader_service.app import GraderService


class ServiceSubApp(Application):
    aliases = {"f": "GraderService.config_file", "config": "GraderService.config_file"}

    def service(self) -> GraderService:
        root = self.parent
        while root is not None and not isinstance(root, GraderService):
            root = root.parent
        if root is None:
            root = GraderService.instance()
        root.update_config(self.config)
        root.cli_config = Config(self.config)
        root.load_all_config()
        return root
