"""The Evaluations page's setup of a new run: a set of prompts (typed,
pasted one per line, or from the prompt library with its variables filled),
2-8 bots with shared or per-bot options, what the run may cost against the
member's budget, and Run.

Rendering and callbacks only (each a `member_action` or a `view_action`);
the rules are in `webapp.evaluations.model` and `.store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import streamlit as st

from ablt_core import Bot
from webapp import limits, render
from webapp.auth.guard import member_action, view_action
from webapp.budgets import view as budgets_view
from webapp.chat import open_chat as chat
from webapp.conversations.context import ConversationOptions
from webapp.evaluations.model import (
    MAX_ANSWERS,
    MAX_BOTS,
    MAX_PROMPT_CHARS,
    MAX_PROMPTS,
    MIN_BOTS,
    EvaluationError,
    EvaluationNotFound,
    RunBot,
    check_prompts,
    estimate_run_words,
    in_unit,
    split_lines,
)
from webapp.evaluations.view import FLASH_AREA, get_evaluations, launch, session
from webapp.groups import view as groups_view
from webapp.library import PromptNotFound, fill_template
from webapp.library.view import (
    VariablesMissing,
    entry_with_values,
    get_library,
    render_entry_picker,
)
from webapp.text import literal as md
from webapp.ui import flash, styles
from webapp.ui.i18n import _, format_number, ngettext
from webapp.ui.member import current_member
from webapp.ui.state import Keys

ALL_BOTS: Final = "all"  # the option fields shared by every bot (else a bot's slug)
LIBRARY_WHERE: Final = "evals"  # the library entry's fields (`Keys.library_variable`)
NEW_SET: Final = "__new__"


def _notice(kind: flash.Kind, text: str) -> None:
    flash.flash(FLASH_AREA, text, kind)


@member_action(FLASH_AREA)
def add_pasted() -> None:
    """Add the pasted prompts (one per line) and the single prompt to the draft set."""
    state, page = st.session_state, session()
    added = split_lines(state.get(Keys.EVALS_PASTE) or "")
    one = (state.get(Keys.EVALS_ONE) or "").strip()
    if one:
        added.append(one)
    if not added:
        _notice("warning", _("Type or paste prompts first."))
        return
    try:
        check_prompts([*page.draft, *added])
    except EvaluationError as err:
        _notice("error", _("{problem} Nothing was added.").format(problem=err))
        return
    page.draft.extend(added)
    state[Keys.EVALS_PASTE] = state[Keys.EVALS_ONE] = ""


@member_action(FLASH_AREA)
def add_library_prompt(entry_id: str) -> None:
    """Add a library entry's starter prompt, its variables filled, to the draft set."""
    try:
        entry, values = entry_with_values(entry_id, LIBRARY_WHERE)
    except (PromptNotFound, VariablesMissing) as err:
        _notice("error", str(err))
        return
    prompt = fill_template(entry.starter_prompt or "", values).strip()
    if not prompt:
        _notice("error", _("That library entry has no prompt to add."))
        return
    page = session()
    try:
        check_prompts([*page.draft, prompt])
    except EvaluationError as err:
        _notice("error", _("{problem} Nothing was added.").format(problem=err))
        return
    page.draft.append(prompt)


@view_action
def remove_draft_prompt(index: int) -> None:
    draft = session().draft
    if 0 <= index < len(draft):
        del draft[index]


@member_action(FLASH_AREA)
def save_set() -> None:
    """Save the draft as a named set, picked for the next run."""
    page, state = session(), st.session_state
    try:
        saved = get_evaluations().create_set(
            current_member(), state.get(Keys.EVALS_SET_NAME) or "", page.draft
        )
    except EvaluationError as err:
        _notice("error", str(err))
        return
    except chat.DATABASE_ERRORS:
        _notice("error", _("The set could not be saved; try again."))
        return
    page.draft = []
    state[Keys.EVALS_SET] = saved.id
    state[Keys.EVALS_SET_NAME] = ""
    _notice(
        "success",
        ngettext(
            "Saved the set “{name}” ({count} prompt).",
            "Saved the set “{name}” ({count} prompts).",
            len(saved.prompts),
        ).format(name=md.escape(saved.name), count=len(saved.prompts)),
    )


def options_from_fields(scope: str) -> ConversationOptions:
    """The options a set of fields (`scope`: `ALL_BOTS` or a bot's slug) say."""
    state = st.session_state

    def value(name: str) -> Any:
        return state.get(Keys.evals_option(scope, name))

    system = (value("system") or "").strip()
    return ConversationOptions(
        language=(value("language") or "").strip() or None,
        max_words=int(value("max_words") or limits.MAX_WORDS_DEFAULT),
        use_search=bool(value("search")),
        system_instruction=system or None,
    )


def picked_bots(bots: Sequence[Bot]) -> list[RunBot]:
    """The bots picked for a new run with their options (shared or per bot)."""
    by_slug = {b.slug: b for b in bots}
    slugs = [s for s in st.session_state.get(Keys.EVALS_BOTS) or [] if s in by_slug]
    per_bot = bool(st.session_state.get(Keys.EVALS_PER_BOT))
    return [
        RunBot(s, by_slug[s].name, options_from_fields(s if per_bot else ALL_BOTS)) for s in slugs
    ]


@member_action(FLASH_AREA)
def start_run(bots: Sequence[Bot]) -> None:
    """Run the picked set with the picked bots (after the cost check)."""
    set_id = st.session_state.get(Keys.EVALS_SET)
    if not set_id or set_id == NEW_SET:
        _notice("error", _("Save the set of prompts first, then run it."))
        return
    try:
        eval_set = get_evaluations().get_set(current_member(), set_id)
    except EvaluationNotFound:
        _notice("error", _("That set no longer exists."))
        return
    launch(eval_set, picked_bots(bots))


def render_option_fields(scope: str) -> None:
    """Language, max words, web search and a system instruction for `scope`."""
    left, right = st.columns(2)
    left.text_input(
        _("Language"),
        key=Keys.evals_option(scope, "language"),
        placeholder=_("The bot's default"),
        max_chars=limits.LANGUAGE_MAX_CHARS,
    )
    right.number_input(
        _("Max words"),
        limits.MAX_WORDS_MIN,
        limits.MAX_WORDS_MAX,
        value=limits.MAX_WORDS_DEFAULT,
        step=50,
        key=Keys.evals_option(scope, "max_words"),
    )
    left.toggle(_("Web search"), key=Keys.evals_option(scope, "search"))
    st.text_area(
        _("System instruction"),
        key=Keys.evals_option(scope, "system"),
        max_chars=limits.SYSTEM_INSTRUCTION_MAX_CHARS,
        placeholder=_("Extends or overrides each bot's own instructions"),
        height=80,
    )


def _render_library_adder() -> None:
    render_entry_picker(
        [e for e in get_library().visible(current_member()) if e.starter_prompt],
        label=_("Add a prompt from the library"),
        key="evals_library_pick",
        where=LIBRARY_WHERE,
        button=_("Add to the set"),
        button_key="evals_library_add",
        on_click=add_library_prompt,
    )


def render_new_set() -> None:
    """A new set: its name, prompts typed or pasted, or from the library."""
    page = session()
    st.text_input(_("Name of the set"), key=Keys.EVALS_SET_NAME, max_chars=200)
    st.text_area(
        _("Prompts, one per line"),
        key=Keys.EVALS_PASTE,
        height=120,
        placeholder=_("Paste or type prompts here, one per line"),
    )
    st.text_area(
        _("Or one prompt over several lines"),
        key=Keys.EVALS_ONE,
        height=80,
        max_chars=MAX_PROMPT_CHARS,
    )
    st.button(_("Add prompts"), icon=":material/playlist_add:", on_click=add_pasted)
    _render_library_adder()
    st.caption(
        _(
            "{draft} of at most {max_prompts} prompts (each up to {max_prompt_chars} characters)."
        ).format(
            draft=len(page.draft),
            max_prompts=MAX_PROMPTS,
            max_prompt_chars=format_number(MAX_PROMPT_CHARS),
        )
    )
    for index, prompt in enumerate(page.draft):
        text, remove = st.columns([12, 1], vertical_alignment="center")
        text.markdown(render.prompt_html(f"{index + 1}. {prompt[:300]}"), unsafe_allow_html=True)
        remove.button(
            _("Remove this prompt"),  # read by screen readers; on screen the × says it
            key=f"{styles.EVAL_PROMPT_REMOVE_KEY_PREFIX}{index}",
            icon=":material/close:",
            help=_("Remove this prompt"),
            on_click=remove_draft_prompt,
            args=(index,),
        )
    st.button(
        _("Save the set"),
        type="primary",
        icon=":material/save:",
        disabled=not page.draft,
        on_click=save_set,
    )


def render_setup(catalogue: Sequence[Bot]) -> None:
    """The setup of a new run: the set, the bots (only those the member's
    groups allow, `webapp.groups`), their options, the cost, Run."""
    member = current_member()
    bots = groups_view.usable(groups_view.current_access(member), catalogue)
    sets = get_evaluations().sets(member)
    labels = {NEW_SET: _("A new set…")} | {
        s.id: ngettext(
            "{name} ({count} prompt)", "{name} ({count} prompts)", len(s.prompts)
        ).format(name=s.name, count=format_number(len(s.prompts)))
        for s in sets
    }
    if st.session_state.get(Keys.EVALS_SET) not in labels:
        st.session_state[Keys.EVALS_SET] = next(iter(labels)) if not sets else sets[0].id
    st.header(_("1. Prompts"))
    chosen = st.selectbox(
        _("Set of prompts"), list(labels), format_func=labels.__getitem__, key=Keys.EVALS_SET
    )
    eval_set = next((s for s in sets if s.id == chosen), None)
    if eval_set is None:
        render_new_set()
    else:
        with st.expander(_("The {prompts} prompts").format(prompts=len(eval_set.prompts))):
            for index, prompt in enumerate(eval_set.prompts[:MAX_PROMPTS]):
                st.markdown(
                    render.prompt_html(f"{index + 1}. {prompt[:500]}"), unsafe_allow_html=True
                )
    st.header(_("2. Bots"))
    names = chat.bot_labels(bots)  # two bots may share a name: the slug tells them apart
    picked_slugs = st.session_state.get(Keys.EVALS_BOTS)
    if picked_slugs and any(slug not in names for slug in picked_slugs):
        # A bot no longer allowed (or gone) leaves the pick before it is offered.
        st.session_state[Keys.EVALS_BOTS] = [s for s in picked_slugs if s in names]
    st.multiselect(
        _("Bots ({min_bots} to {max_bots})").format(min_bots=MIN_BOTS, max_bots=MAX_BOTS),
        list(names),
        format_func=lambda s: names.get(s, s),
        max_selections=MAX_BOTS,
        key=Keys.EVALS_BOTS,
    )
    if len(bots) < len(catalogue):
        st.caption(
            ngettext(
                "Only the {allowed} bots your groups allow are offered "
                "({others} other is not yours to use).",
                "Only the {allowed} bots your groups allow are offered "
                "({others} others are not yours to use).",
                len(catalogue) - len(bots),
            ).format(allowed=len(bots), others=len(catalogue) - len(bots))
        )
    per_bot = st.toggle(_("Options per bot"), key=Keys.EVALS_PER_BOT)
    picked = picked_bots(bots)
    if per_bot:
        for bot in picked:
            with st.expander(md.escape(bot.label)):
                render_option_fields(bot.slug)
    else:
        render_option_fields(ALL_BOTS)
    st.header(_("3. Run"))
    prompts = len(eval_set.prompts) if eval_set else len(session().draft)
    answers = prompts * len(picked)
    words = estimate_run_words(prompts, picked)
    line = _(
        "{prompts} prompts x {bots} bots = {answers} answers (at most {max_answers}); "
        "they may use up to {words} words"
    ).format(
        prompts=format_number(prompts),
        bots=format_number(len(picked)),
        answers=format_number(answers),
        max_answers=format_number(MAX_ANSWERS),
        words=format_number(words),
    )
    try:
        status = budgets_view.status_for(member)
        if status.left is not None:
            line += _(" of the {left} {unit} left of your budget").format(
                left=format_number(status.left),
                unit=_("words") if status.limit.unit == "words" else _("tokens"),
            )
            unit_words = in_unit(words, status.limit.unit)
            if status.limit.unit != "words":
                line += _(" (about {tokens} tokens)").format(tokens=format_number(unit_words))
    except chat.DATABASE_ERRORS:
        pass
    st.caption(line + ".")
    blocked = run_blocked_reason(eval_set is not None, len(picked))
    st.button(
        _("Run"),
        type="primary",
        icon=":material/play_arrow:",
        disabled=blocked is not None,
        on_click=start_run,
        args=(bots,),
        help=blocked,
    )
    if blocked:
        st.caption(blocked)  # a greyed button says why, not only on hover


def run_blocked_reason(set_saved: bool, bots_picked: int) -> str | None:
    """Why Run cannot be pressed yet, in plain words, or None when it can:
    a run needs a saved prompt set and at least `MIN_BOTS` bots."""
    if not set_saved:
        return _("Save the prompt set above first: a run answers a saved set.")
    if bots_picked < MIN_BOTS:
        return ngettext(
            "Pick at least {count} bot to run.", "Pick at least {count} bots to run.", MIN_BOTS
        ).format(count=MIN_BOTS)
    return None
