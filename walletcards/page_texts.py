"""The HTML pages' language: ``_``/``ngettext`` for Jinja (``{{ _("Sign in") }}``, extracted by
pybabel from walletcards/templates) and ``lang`` for ``<html lang>``. The card page speaks its
customer's language; the till and the dashboard the staff browser's, among the programme's."""

from __future__ import annotations

from typing import Any

from flask import request

from walletcards.i18n import LANGUAGES, language
from walletcards.loyalty.models import Program
from walletcards.loyalty.programs import program_config


def template_texts(lang: str) -> dict[str, Any]:
    t = language(lang)
    return {"_": t.gettext, "gettext": t.gettext, "ngettext": t.ngettext, "lang": lang}


def staff_texts(program: Program | None) -> dict[str, Any]:
    """The browser's preferred language (Accept-Language) if the programme offers it, else the
    programme's default; before sign-in, any language walletcards speaks, else English."""
    offered: tuple[str, ...] = LANGUAGES
    default = "en"
    if program is not None:
        config = program_config(program)
        offered, default = config.languages, config.locale
    return template_texts(request.accept_languages.best_match(offered) or default)
