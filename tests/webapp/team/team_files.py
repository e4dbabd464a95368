"""Team files as people write them, shared by the team tests (the CLI's and the store's)."""

from __future__ import annotations

from pathlib import Path

import bcrypt


def quick_hash(password: str) -> str:
    """A real bcrypt hash at the lowest cost (4), so tests stay fast."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()


def hand_written(path: Path) -> Path:
    """A file as streamlit-authenticator's README shows it: no user_id, the
    library's own keys, a cookie section, an uppercase username, roles of its
    own, and a key of the writer's own (kept and exported back)."""
    path.write_text(
        f"""\
cookie:
  expiry_days: 30
  key: some_signature_key
  name: some_cookie_name
credentials:
  usernames:
    JSmith:
      email: jsmith@gmail.com
      failed_login_attempts: 0
      logged_in: false
      name: John Smith
      password: {quick_hash("john-password")}
      roles:
      - admin
      - editor
    rbriggs:
      email: rbriggs@gmail.com
      name: Rebecca Briggs
      password: {quick_hash("rebecca-password")}
      roles:
      - viewer
      favourite_colour: green
""",
        encoding="utf-8",
    )
    return path
