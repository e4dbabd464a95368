"""The app's limits, defined once: every layer that enforces one reads it here.

A limit that two layers spell differently is a crash waiting for its input (an
import accepted `max_words: 50000` because the model allowed 100,000, and the
options widget, which allowed 20,000, then crashed on every open). So the
options widgets (`max_value`, `max_chars`), the `ConversationOptions` model,
the import check and the API call all take their bounds from this module.

Display limits (how much of a bot's own text the pages show) live here too:
they bound what one run draws, whatever the API sends.
"""

from __future__ import annotations

from typing import Final

# -- conversation options (the API's `max_words`, `language`, system messages) ----

# The API's advice: under ~100 words answers get cut off, over ~2000 regular
# models may time out (ablt-api.md); 20,000 is the most a page can usefully ask.
MAX_WORDS_MIN: Final = 1
MAX_WORDS_MAX: Final = 20_000
MAX_WORDS_DEFAULT: Final = 300  # what the widget proposes when the limit is switched on
LANGUAGE_MAX_CHARS: Final = 100
SYSTEM_INSTRUCTION_MAX_CHARS: Final = 50_000

# -- bot fields as the pages show them (characters = code points, cut only
#    between whole grapheme clusters: webapp.text.graphemes) -----------------------------

BOT_NAME_MAX_CHARS: Final = 80
BOT_MODEL_MAX_CHARS: Final = 60
BOT_SLUG_MAX_CHARS: Final = 80
BOT_DESCRIPTION_MAX_CHARS: Final = 600  # a card
BOT_HEADER_DESCRIPTION_MAX_CHARS: Final = 160  # the chat header's one line
BOT_WELCOME_MAX_CHARS: Final = 2_000  # the welcome shown in the chat and on a card
# What the app keeps of each text field of a bot at all (cached, searched): more
# than any page shows, far less than a hostile API may send.
BOT_FIELD_KEEP_CHARS: Final = 4_000

# -- how many bots one run draws ----------------------------------------------------

BOT_CARDS_PER_PAGE: Final = 24  # the Bots page: a page of cards at a time
BOT_PICKER_MAX_CHOICES: Final = 50  # the chat's bot picker: the first matches only

# -- the prompt library ------------------------------------------------------------

# `{{variables}}` one starter prompt may ask for: each is a text field on the
# page of the member who starts it. A shared entry within the form's 20,000
# characters could hold 2,200 of them, drawn for every member on every run.
LIBRARY_MAX_VARIABLES: Final = 20
