"""The `onestack` command: `up`, `status`, `db upgrade` and `policy dump`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from onestack.common import logs
from onestack.settings import Settings, load_settings


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings(
        state_dir=args.state_dir,
        database_url=args.database_url,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        public_url=getattr(args, "public_url", None),
    )
    return int(args.handler(settings, args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onestack", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-dir",
        type=Path,
        help="state directory (default ~/.local/share/onestack, or $ONESTACK_STATE_DIR)",
    )
    common.add_argument(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql://user@host/db (default: SQLite in the state dir)",
    )
    commands = parser.add_subparsers(required=True, metavar="command")

    up = commands.add_parser("up", parents=[common], help="bootstrap if needed and serve the cloud")
    up.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    up.add_argument("--port", type=int, help="port to listen on (default 5000)")
    up.add_argument("--public-url", help="base URL published in the catalog")
    up.set_defaults(handler=cmd_up)

    status = commands.add_parser("status", parents=[common], help="what runs where, and answers")
    status.set_defaults(handler=cmd_status)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(required=True, metavar="action")
    upgrade = db_commands.add_parser("upgrade", parents=[common], help="apply schema migrations")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    policy = commands.add_parser("policy", help="the API policy")
    policy_commands = policy.add_subparsers(required=True, metavar="action")
    dump = policy_commands.add_parser(
        "dump", parents=[common], help="write the default policy, to override rule by rule"
    )
    dump.add_argument("--output", type=Path, help="file to write (default: standard output)")
    dump.set_defaults(handler=cmd_policy_dump)
    return parser


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    from onestack import cloud

    logs.configure(settings.log_level)
    print(f"onestack: state in {settings.state_dir}", flush=True)
    built = cloud.prepare(settings)

    def ready() -> None:
        print(f"onestack: credentials in {built.bootstrap.credentials_file}", flush=True)
        print(f"onestack: clouds.yaml at {built.bootstrap.clouds_file}", flush=True)
        print(f"onestack: export OS_CLIENT_CONFIG_FILE={built.bootstrap.clouds_file}", flush=True)
        for service, url in built.services.items():
            print(f"onestack: {service} at {url}", flush=True)
        print(f"onestack: up on {settings.base_url} (pid {os.getpid()}); Ctrl-C stops", flush=True)

    cloud.serve(settings, built, ready)
    print("onestack: stopped", flush=True)
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    """Print each service's URL and whether it answers; non-zero when the cloud is down."""
    if not settings.run_file.exists():
        print(f"onestack is not running (no {settings.run_file})")
        return 3
    record = json.loads(settings.run_file.read_text())
    alive = _pid_alive(record["pid"])
    print(
        f"onestack pid {record['pid']} ({'running' if alive else 'gone'}), "
        f"database {record['database']}"
    )
    healthy = alive
    for service, url in record["services"].items():
        answer = _probe(url)
        healthy = healthy and answer.startswith("answers")
        print(f"  {service:<10} {url:<45} {answer}")
    return 0 if healthy else 1


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from onestack.common import migrate

    migrate.upgrade(settings.sqlalchemy_url)
    print("onestack: database schema is current")
    return 0


def cmd_policy_dump(settings: Settings, args: argparse.Namespace) -> int:
    """The shipped defaults, verbatim; an operator copies what they change to policy.yaml."""
    from onestack.identity.policy import DEFAULT_POLICY_FILE, override_file

    text = DEFAULT_POLICY_FILE.read_text()
    output: Path | None = args.output
    if output is None:
        sys.stdout.write(text)
        return 0
    output.write_text(text)
    print(f"onestack: defaults written to {output}; overrides go in {override_file(settings)}")
    return 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _probe(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return f"answers ({response.status})"
    except urllib.error.HTTPError as exc:
        # Version discovery answers 300 Multiple Choices, which urllib reports as an error.
        return f"answers ({exc.code})" if exc.code < 500 else f"fails ({exc.code})"
    except OSError as exc:
        return f"does not answer ({exc})"


if __name__ == "__main__":
    sys.exit(main())
