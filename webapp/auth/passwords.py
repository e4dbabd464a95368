"""Password rules and bcrypt hashing: one place for every path that sets or checks one.

The paths: the login form (`webapp.auth.throttle.authenticate`), the Account page's
change-password form (`webapp.auth.gate.change_password`), `python -m webapp.team
add|passwd` and a plaintext password written by hand into the team file
(`webapp.team`). streamlit-authenticator never sees a password: the app checks
it here and only then tells the library who logged in.

The rules, the same on every path:

- **Whitespace is kept.** Leading and trailing spaces are part of the
  password; nothing is stripped, neither when it is set nor when it is
  checked (streamlit-authenticator's own login strips, which locked out a
  member whose password ended in a space: issue 13 item 11).
- **Unicode is normalised to NFKC** before hashing and checking, as NIST SP
  800-63B section 5.1.1.2 recommends, so a password typed with a no-break
  space (U+00A0, e.g. Option+Space on a Mac) or a composed accent matches the
  same password typed another way. A hash made before this rule from the raw
  text still matches (the raw text is tried too when it differs).
- **At most 72 bytes of UTF-8** after normalising: bcrypt reads no further
  (bcrypt 5 raises `ValueError` past it, older versions silently ignored the
  rest). Longer passwords are refused with a plain message wherever one is
  set, and the login form gives the same message instead of checking them.
- At least `MIN_PASSWORD_LENGTH` characters, not the public demo password.

Timing: `check_or_dummy` runs bcrypt against a dummy hash of the same cost
when there is no real hash, so a wrong password for a member and any
password for an unknown username cost the same.
"""

from __future__ import annotations

import threading
import unicodedata
from typing import Final

import bcrypt

from webapp.ui.i18n import N_, _

MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_BYTES: Final = 72  # bcrypt's limit on its input
BCRYPT_ROUNDS = 12  # bcrypt's default cost; tests lower it (module attribute, not Final)
# The demo team's password. It is public (the login page shows it), which is
# why such accounts are refused with a real token.
DEMO_PASSWORD: Final = "ablt-demo"
WHITESPACE_NOTE: Final = N_("Leading and trailing spaces are kept: they are part of the password.")

_dummy_lock = threading.Lock()
_dummy_hashes: dict[int, bytes] = {}


def normalize(password: str) -> str:
    """The form of `password` that is hashed and checked: NFKC, whitespace kept."""
    return unicodedata.normalize("NFKC", password)


def password_bytes(password: str) -> int:
    """How many bytes bcrypt would see: UTF-8 length of the normalised password."""
    return len(normalize(password).encode("utf-8"))


def too_long_problem(password: str) -> str | None:
    """The plain message for a password past bcrypt's 72 bytes, or None."""
    size = password_bytes(password)
    if size <= MAX_PASSWORD_BYTES:
        return None
    return _(
        "A password can be at most {max_password_bytes} bytes long; this "
        "one is {size} bytes ({password} characters; letters outside A-Z "
        "take 2 to 4 bytes each). Choose a shorter one."
    ).format(max_password_bytes=MAX_PASSWORD_BYTES, size=size, password=len(password))


def password_problem(password: str, repeat: str | None = None) -> str | None:
    """Why `password` cannot be set (a plain sentence), or None if it can.

    `repeat`: the confirmation field, when the form has one.
    """
    if repeat is not None and password != repeat:
        return _("The two new passwords do not match.")
    if len(normalize(password)) < MIN_PASSWORD_LENGTH:
        return _("A password needs at least {min_password_length} characters.").format(
            min_password_length=MIN_PASSWORD_LENGTH
        )
    if not password.strip():
        return _("A password cannot be only spaces.")
    long_problem = too_long_problem(password)
    if long_problem:
        return long_problem
    if normalize(password) == DEMO_PASSWORD:
        return _("That is the public demo password; choose another.")
    return None


def hash_password(password: str, rounds: int | None = None) -> str:
    """A bcrypt hash (`$2b$...`) of the normalised password.

    Raises ValueError past 72 bytes: callers check `password_problem` first.
    """
    data = normalize(password).encode("utf-8")
    if len(data) > MAX_PASSWORD_BYTES:
        raise ValueError(too_long_problem(password))
    return bcrypt.hashpw(data, bcrypt.gensalt(rounds or BCRYPT_ROUNDS)).decode()


def is_bcrypt_hash(value: object) -> bool:
    """Whether `value` looks like a bcrypt hash ($2a$/$2b$/$2y$)."""
    return isinstance(value, str) and value.startswith(("$2a$", "$2b$", "$2y$"))


def _dummy_hash(rounds: int) -> bytes:
    with _dummy_lock:
        found = _dummy_hashes.get(rounds)
        if found is None:
            found = bcrypt.hashpw(b"no member has this password", bcrypt.gensalt(rounds))
            _dummy_hashes[rounds] = found
        return found


def _candidates(password: str) -> list[bytes]:
    """What to try against a hash: the normalised text, and the raw text if it differs
    (hashes set before normalisation); each at most 72 bytes."""
    found: list[bytes] = []
    for text in (normalize(password), password):
        data = text.encode("utf-8")
        if len(data) <= MAX_PASSWORD_BYTES and data not in found:
            found.append(data)
    return found


def check_or_dummy(password: str, password_hash: object) -> bool:
    """Whether `password` matches `password_hash`, at the same cost when there is none.

    With no usable hash (unknown username, a member without one) bcrypt runs
    against a dummy hash of the default cost, so the time taken does not tell
    a member from a stranger. A damaged hash matches nothing. Never raises.
    """
    real = is_bcrypt_hash(password_hash)
    target = str(password_hash).encode() if real else _dummy_hash(BCRYPT_ROUNDS)
    matched = False
    for data in _candidates(password) or [b""]:
        try:
            ok = bcrypt.checkpw(data, target)
        except ValueError:  # a damaged hash: no password matches it
            ok = False
        matched = matched or ok
    return real and matched


def password_matches(password: str, password_hash: object) -> bool:
    """Whether `password` matches `password_hash` (no dummy check when there is no hash)."""
    if not is_bcrypt_hash(password_hash):
        return False
    return check_or_dummy(password, password_hash)
