"""``invoke shell``: ptpython with the app initialised and the useful names imported."""

from __future__ import annotations

from typing import Any

from app import bootstrap

BANNER = """\
app shell ({env}, {url})
  settings   the Settings in use           runtime    the Runtime (lifecycle, database)
  session    this shell's session           services   users, auth, notes bound to it
  models     app.db.models (UserRow, TokenRow, NoteRow)
  users_service, auth_service, notes_service   the service modules
  select     sqlalchemy.select              commit()   session.commit()
Changes are not committed until you call commit()."""


def namespace() -> dict[str, Any]:
    from sqlalchemy import select

    from app.db import models
    from app.service.auth import service as auth_service
    from app.service.notes import service as notes_service
    from app.service.users import service as users_service

    runtime = bootstrap.bootstrap()
    session = runtime.database.session
    return {
        "settings": runtime.settings,
        "runtime": runtime,
        "session": session,
        "services": runtime.services(),
        "models": models,
        "select": select,
        "users_service": users_service,
        "auth_service": auth_service,
        "notes_service": notes_service,
        "commit": session.commit,
        **{name: getattr(models, name) for name in models.__all__},
    }


def main() -> None:
    from ptpython.repl import embed

    names = namespace()
    runtime: bootstrap.Runtime = names["runtime"]
    print(
        BANNER.format(
            env=runtime.settings.app_env,
            url=runtime.database.engine.url.render_as_string(hide_password=True),
        )
    )
    try:
        with runtime.unit_of_work():
            embed(globals=names, locals=names)
    finally:
        bootstrap.shutdown()


if __name__ == "__main__":
    main()
