"""Chat page: pick a bot or reopen a conversation, set its options, talk.

Answers are generated in the background (`webapp.answers`): this page sends
prompts from the message box's own callback and attaches to the answer in
progress, so a rerun, a page switch or a reload never cuts it. The page is
`webapp.chat.page`; what it shows, and when it is drawn again, is
`webapp.chat.page_state`.
"""

from __future__ import annotations

from webapp.chat import page

page.render()
