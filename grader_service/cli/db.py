"""`grader-service db upgrade|current`: migrate the database and show its schema revision."""

from __future__ import annotations

from traitlets import Unicode

from grader_service.cli.base import ServiceSubApp
from grader_service.orm import migrate


class DbUpgradeApp(ServiceSubApp):
    description = "Upgrade the database to this version's schema (SQLite is backed up first)."
    revision = Unicode("head", help="Target revision.").tag(config=True)
    aliases = {**ServiceSubApp.aliases, "revision": "DbUpgradeApp.revision"}

    def start(self) -> None:
        svc = self.service()
        db = svc.init_db(ensure=False)
        before = migrate.current_revision(db.engine)
        if before is not None and before != migrate.head_revision():
            backup = migrate.backup_sqlite(db.engine)
            if backup:
                print(f"Backed up the database to {backup}")
        migrate.upgrade(db.engine, self.revision)
        print(f"Database upgraded: {before or '(empty)'} -> {migrate.current_revision(db.engine)}")
        db.close()


class DbCurrentApp(ServiceSubApp):
    description = "Print the database's schema revision and this version's head."

    def start(self) -> None:
        svc = self.service()
        db = svc.init_db(ensure=False)
        status = migrate.schema_status(db.engine)
        state = "up to date" if status.up_to_date else ("empty" if status.empty else "behind: run db upgrade")
        print(f"current: {status.current or '(none)'}\nhead:    {status.head}\nstate:   {state}")
        db.close()


class DbApp(ServiceSubApp):
    description = "Database schema commands."
    subcommands = {
        "upgrade": (DbUpgradeApp, DbUpgradeApp.description),
        "current": (DbCurrentApp, DbCurrentApp.description),
    }

    def start(self) -> None:
        if self.subapp is None:
            self.print_subcommands()
            self.exit(1)
        else:
            self.subapp.start()
