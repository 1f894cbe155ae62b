"""`walletcards staff ...`: staff accounts from the command line. Passwords are read from
standard input, never from argv. Commands that take access away (revoke, disable) act on
every programme the email is staff of unless --program narrows them; the others need one."""

from __future__ import annotations

import sys

import click

from walletcards.cli.common import command_transaction
from walletcards.clock import SystemClock
from walletcards.staff.accounts import StaffError
from walletcards.staff.models import ROLES


def _password() -> str:
    return sys.stdin.readline().rstrip("\r\n")


@click.group()
def staff() -> None:
    """Staff accounts of a programme (the till and the admin side)."""


@staff.command("add")
@click.option("--program", "slug", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.argument("email")
def staff_add(slug: str, role: str, email: str) -> None:
    """Add a staff member; the password is read from standard input (never from argv)."""
    from walletcards.loyalty.programs import UnknownProgram, get_program
    from walletcards.staff.accounts import add_staff

    password = _password()
    with command_transaction(StaffError, UnknownProgram) as session:
        add_staff(session, get_program(session, slug), email, role, password, SystemClock().now())
    click.echo(f"{email.strip().lower()} is now {role} of {slug}")


@staff.command("token")
@click.option("--program", "slug", default=None, help="Needed when the email is staff of several.")
@click.argument("email")
def staff_token(slug: str | None, email: str) -> None:
    """Print a new API token for a POS integration (stored hashed; shown once)."""
    from walletcards.staff.accounts import issue_token, one_staff

    with command_transaction(StaffError) as session:
        token = issue_token(session, one_staff(session, email, slug), SystemClock().now())
    click.echo(token)


@staff.command("revoke")
@click.option("--program", "slug", default=None)
@click.argument("email")
def staff_revoke(slug: str | None, email: str) -> None:
    """Revoke every API token of a staff member (a lost POS, someone leaving)."""
    from walletcards.staff.accounts import revoke_tokens, staff_by_email

    with command_transaction(StaffError) as session:
        now = SystemClock().now()
        found = staff_by_email(session, email, slug)
        revoked = sum(revoke_tokens(session, member, now) for member in found)
    click.echo(f"revoked {revoked} token(s) of {email}")


@staff.command("disable")
@click.option("--program", "slug", default=None, help="Only in this programme.")
@click.argument("email")
def staff_disable(slug: str | None, email: str) -> None:
    """Lock a staff member out (someone leaving): their open sessions end at once, sign-in and
    their API tokens are refused until `staff enable`."""
    from walletcards.staff.accounts import set_disabled, staff_by_email

    with command_transaction(StaffError) as session:
        now = SystemClock().now()
        found = staff_by_email(session, email, slug)
        ended = sum(set_disabled(session, member, True, now) for member in found)
    click.echo(f"{email} disabled in {len(found)} programme(s); {ended} session(s) ended")


@staff.command("enable")
@click.option("--program", "slug", default=None, help="Needed when the email is staff of several.")
@click.argument("email")
def staff_enable(slug: str | None, email: str) -> None:
    """Let a disabled staff member sign in (and use their unrevoked API tokens) again."""
    from walletcards.staff.accounts import one_staff, set_disabled

    with command_transaction(StaffError) as session:
        set_disabled(session, one_staff(session, email, slug), False, SystemClock().now())
    click.echo(f"{email} enabled")


@staff.command("password")
@click.option("--program", "slug", default=None, help="Needed when the email is staff of several.")
@click.argument("email")
def staff_password(slug: str | None, email: str) -> None:
    """Set a new password, read from standard input (never from argv); every session signed
    in with the old one ends."""
    from walletcards.staff.accounts import one_staff, set_password

    password = _password()
    with command_transaction(StaffError) as session:
        member = one_staff(session, email, slug)
        ended = set_password(session, member, password, SystemClock().now())
    click.echo(f"new password for {email}; {ended} session(s) ended")
