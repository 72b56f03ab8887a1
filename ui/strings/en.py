"""English strings (the default language). Keys are ``area.name``; ``{name}`` fields are filled by ``ui.i18n.t``."""
from __future__ import annotations

STRINGS: dict[str, str] = {
    # ui/i18n.py
    "lang.label": "Language / 语言",
    # ui/links.py: shareable views
    "links.share": "Share this view",
    "links.share_title": "A link to this view",
    "links.share_hint": "Copy it with the icon at the right of the box. Whoever opens it sees this page with these settings "
                        "(a drawing or an upload is not part of the link).",
    "links.ignored": "The link's {param}={value} was ignored: {why}.",
    "links.not_option": "not one of {options}",
    "links.not_whole": "not a whole number from {lo} to {hi}",
    "links.not_number": "not a number from {lo} to {hi}",
    "links.not_flag": "not 1 or 0",
}
