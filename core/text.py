"""The rules every text a person types must follow, shared by the app's inputs and the API's
fields (one rule, two front doors).

Control characters (C0 including NUL, DEL and C1) are refused: PostgreSQL cannot store NUL in a
text column at all (the query fails), and the others only ever arrive by mistake or by attack
(terminal escapes in logs, invisible characters in names). Tabs and newlines count too: no
single-line field (a name, a password, an id) has a use for them.
"""

from __future__ import annotations

import re

# as a regular expression (Python, and ECMA-262 for the OpenAPI document)
CONTROL_CLASS = r"\x00-\x1f\x7f-\x9f"
_CONTROL = re.compile(f"[{CONTROL_CLASS}]")
# whole-value patterns: any text without control characters, and one that is not blank either
PRINTABLE_PATTERN = f"^[^{CONTROL_CLASS}]*$"
NOT_BLANK_PATTERN = f"^[^{CONTROL_CLASS}]*[^\\s{CONTROL_CLASS}][^{CONTROL_CLASS}]*$"

_NAMES = {0x00: "NUL", 0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return", 0x1B: "escape"}


def control_character_error(value: str) -> str | None:
    """Why ``value`` is refused (it holds a control character), or None when it is fine."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    code = ord(found.group())
    name = _NAMES.get(code, "a control character")
    return (
        f"must not contain control characters (found {name}, U+{code:04X}, at position "
        f"{found.start() + 1}); type plain text only"
    )


def check_text(value: object) -> object:
    """A validator: ``value`` unchanged, or ValueError naming the first control character."""
    if isinstance(value, str):
        error = control_character_error(value)
        if error is not None:
            raise ValueError(error)
    return value
