"""The emulator's bot catalogue and the SVG avatars it serves itself.

The catalogue is deliberately untidy in the ways the real service is allowed to
be (see ablt-api.md): mixed-case UIDs, a display name shared by two bots, an
empty description, a null ``avatar_url``, ``\\r\\n`` in welcome messages and an
extra field (``tags``) that clients must ignore. Avatars are generated SVGs so
the catalogue renders with no internet access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any


@dataclass(frozen=True)
class Bot:
    """One published bot plus the persona material its answers are built from."""

    uid: str
    slug: str
    name: str
    description: str
    welcome_message: str
    model: str
    instructions: str  # the hidden prompt the service adds ("enchancement")
    opener: str
    sentences: tuple[str, ...]
    closer: str
    colour: str
    accent: str
    initials: str
    has_avatar: bool = True
    tags: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self, base_url: str) -> dict[str, Any]:
        """The wire form of the bot; ``base_url`` makes ``avatar_url`` absolute."""
        avatar = f"{base_url.rstrip('/')}/avatars/{self.slug}.svg" if self.has_avatar else None
        return {
            "uid": self.uid,
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "welcome_message": self.welcome_message,
            "model": self.model,
            "avatar_url": avatar,
            "tags": list(self.tags),  # not in the contract: clients must ignore it
        }


BOTS: tuple[Bot, ...] = (
    Bot(
        uid="3F2504E0-4F89-11D3-9A0C-0305E82C3301",
        slug="omni",
        name="Omni",
        description="A versatile all-rounder: writing, analysis, ideas and everyday questions.",
        welcome_message="Hi, I'm Omni.\r\nAsk me anything - I'm happy to help.",
        model="gpt-4",
        instructions=(
            "You are Omni, a helpful general assistant. Answer clearly, structure long "
            "answers, and admit uncertainty."
        ),
        opener="Good question - here is how I would think about it.",
        sentences=(
            "First, it helps to separate what we know for sure from what we are assuming.",
            "The short version is that the answer depends on your goal and your constraints.",
            "A practical approach is to start small, check the result, and then build on it.",
            "Most people find it useful to write the problem down in one clear sentence.",
            "If you have numbers, compare them side by side before deciding anything.",
            "There are usually two or three reasonable options rather than one perfect one.",
            "Keep an eye on the trade-off between speed, cost and quality.",
            "When in doubt, choose the option that is easiest to undo later.",
            "Experience from similar situations suggests that clarity beats cleverness.",
        ),
        closer="Tell me more about your situation and I can be more specific.",
        colour="#4F46E5",
        accent="#A5B4FC",
        initials="O",
        tags=("general", "featured"),
    ),
    Bot(
        uid="a1b2C3d4-E5F6-4a7b-8C9d-0E1F2a3B4c5D",
        slug="omni-fast",
        name="Omni",  # same display name as `omni`: names are not unique
        description="",
        welcome_message="Omni (fast edition). Short answers, quickly.",
        model="gpt-3.5-turbo",
        instructions="You are Omni in fast mode. Be brief.",
        opener="Quick answer:",
        sentences=(
            "Keep it simple and start with the most likely explanation.",
            "Check the obvious things first.",
            "Try the cheapest option before the expensive one.",
            "Write down what you tried so you do not repeat it.",
            "If it works, stop there.",
            "If it does not, narrow the problem down by halves.",
            "Small steps make mistakes easy to spot.",
            "Ask again with details if you need more.",
        ),
        closer="That's the gist.",
        colour="#0EA5E9",
        accent="#BAE6FD",
        initials="OF",
        has_avatar=False,
        tags=("general",),
    ),
    Bot(
        uid="7c9E6679-7425-40DE-944B-E07FC1F90AE7",
        slug="code-mentor",
        name="Ada the Code Mentor",
        description="A patient senior engineer who reviews code, explains bugs and suggests tests.",
        welcome_message=(
            "Hello! I'm Ada.\r\nPaste some code or describe a bug,\r\nand we'll work through it "
            "together."
        ),
        model="claude-3-opus",
        instructions=(
            "You are Ada, a senior software engineer. Explain reasoning, prefer small "
            "readable changes, and always suggest a test."
        ),
        opener="Let's debug this the calm way.",
        sentences=(
            "Start by writing a failing test that reproduces the behaviour you see.",
            "Read the stack trace from the bottom up; your own last frame matters most.",
            "Name things after what they mean, not after how they are computed.",
            "A function that does one thing is easier to test than one that does three.",
            "Check the boundaries: empty input, one element, and the largest value you expect.",
            "Prefer returning values over mutating shared state.",
            "Log the inputs at the point where the behaviour first goes wrong.",
            "Once the test passes, refactor with the test as your safety net.",
            "Commit the fix and the test together so the history explains itself.",
        ),
        closer="Happy to review the next version when you have it.",
        colour="#059669",
        accent="#A7F3D0",
        initials="AD",
        tags=("coding", "featured"),
    ),
    Bot(
        uid="f47ac10b-58cc-4372-a567-0e02b2c3d479",
        slug="chef",
        name="Chef Remy",
        description="A cheerful chef with quick recipes, substitutions and kitchen tricks.",
        welcome_message="Bonjour!\r\nTell me what is in your fridge and I'll suggest a dish.",
        model="llama-3-70b",
        instructions=(
            "You are Chef Remy, a friendly French chef. Suggest simple recipes with "
            "common ingredients and give timings."
        ),
        opener="Ah, a lovely thing to cook!",
        sentences=(
            "Begin by warming a heavy pan over medium heat with a spoon of olive oil.",
            "Season in layers: a pinch of salt at each stage beats a handful at the end.",
            "Garlic burns quickly, so add it only for the last minute.",
            "A squeeze of lemon at the finish wakes every flavour up.",
            "Let the pan do the work and resist stirring too often.",
            "Fresh herbs go in at the end; dried herbs go in early.",
            "Taste as you go, and trust your nose as much as the recipe.",
            "Rest meat for five minutes so the juices stay where they belong.",
            "Serve on warm plates; it makes a surprising difference.",
        ),
        closer="Bon appétit!",
        colour="#DC2626",
        accent="#FECACA",
        initials="CR",
        tags=("lifestyle",),
    ),
    Bot(
        uid="16FD2706-8BAF-433B-82EB-8C7FADA847DA",
        slug="stoic-sage",
        name="Marcus, Stoic Sage",
        description="Calm, reflective advice in the tradition of the Stoic philosophers.",
        welcome_message="Welcome, friend.\r\nWhat weighs on your mind today?",
        model="mistral-large",
        instructions=(
            "You are a Stoic philosopher. Offer calm, practical reflections, quoting "
            "Seneca, Epictetus or Marcus Aurelius where apt."
        ),
        opener="Let us consider this calmly.",
        sentences=(
            "Some things are within our control and others are not; begin by sorting them.",
            "Our opinions about events trouble us more than the events themselves.",
            "Ask what a person of good character would do, then do that.",
            "The obstacle in the path can become the path.",
            "Each day offers a small chance to practise patience.",
            "Wealth is not having much, but wanting little.",
            "Reflect in the evening on what went well and what could improve.",
            "Kindness toward others is also a discipline for ourselves.",
            "Time is the one possession we cannot recover once spent.",
        ),
        closer="Be well, and be steady.",
        colour="#7C3AED",
        accent="#DDD6FE",
        initials="MS",
        tags=("wellbeing",),
    ),
    Bot(
        uid="9b2D4f8E-1c3A-4e5B-9d7F-6A8c0E2b4D6f",
        slug="copywriter",
        name="Maven Copywriter",
        description="Punchy marketing copy: headlines, product blurbs and email subject lines.",
        welcome_message="Ready to make your words sell?\r\nGive me a product and an audience.",
        model="gemini-1.5-pro",
        instructions=(
            "You are a marketing copywriter. Write short, benefit-led copy with a clear "
            "call to action."
        ),
        opener="Here's a punchy angle for you.",
        sentences=(
            "Lead with the benefit, not the feature.",
            "Speak to one reader, in their words, about their problem.",
            "A strong headline promises something specific and believable.",
            "Cut every word that does not earn its place.",
            "Social proof works best when it is concrete: numbers, names, results.",
            "End with one clear call to action, never three.",
            "Test two subject lines and keep the winner.",
            "Urgency helps only when it is real.",
            "Read it aloud; if you stumble, your reader will too.",
        ),
        closer="Want three headline variants to A/B test?",
        colour="#EA580C",
        accent="#FED7AA",
        initials="MC",
        tags=("marketing",),
    ),
    Bot(
        uid="C56A4180-65AA-42EC-A945-5FD21DEC0538",
        slug="travel-planner",
        name="Wanda the Travel Planner",
        description="Itineraries, packing lists and local tips for trips of any length.",
        welcome_message="Where to next?\r\nTell me your dates and budget.",
        model="claude-3-haiku",
        instructions=(
            "You are a travel planner. Suggest day-by-day itineraries, local food and "
            "practical tips on transport and budget."
        ),
        opener="What a great trip to plan!",
        sentences=(
            "Arrive with a loose plan for the first day and leave room for jet lag.",
            "Mornings are best for the busiest sights, before the crowds arrive.",
            "Eat where the locals queue; it is rarely a mistake.",
            "A day pass for public transport usually pays for itself by lunch.",
            "Pack light layers and one pair of comfortable walking shoes.",
            "Keep a digital and a paper copy of your bookings.",
            "Build in one unplanned afternoon; it often becomes the highlight.",
            "Learn five words of the local language; people appreciate it.",
            "Check opening days, since many museums close on Mondays.",
        ),
        closer="Shall I draft a day-by-day itinerary?",
        colour="#0891B2",
        accent="#A5F3FC",
        initials="WT",
        tags=("lifestyle", "featured"),
    ),
)


def find_bot(*, uid: str | None = None, slug: str | None = None) -> Bot | None:
    """Look a bot up by uid (case-insensitively, as UUIDs compare) or by slug."""
    for bot in BOTS:
        if uid is not None and bot.uid.lower() == uid.lower():
            return bot
        if slug is not None and bot.slug == slug:
            return bot
    return None


def avatar_svg(bot: Bot) -> str:
    """A 96x96 avatar: coloured disc, a soft accent shape and the bot's initials."""
    # A per-bot variation so avatars differ by more than colour.
    variant = sum(map(ord, bot.slug)) % 3
    if variant == 0:
        accent = f'<circle cx="72" cy="24" r="18" fill="{bot.accent}" opacity="0.55"/>'
    elif variant == 1:
        accent = (
            f'<rect x="8" y="60" width="80" height="28" rx="14" fill="{bot.accent}" '
            'opacity="0.45"/>'
        )
    else:
        accent = f'<path d="M48 6 L90 78 L6 78 Z" fill="{bot.accent}" opacity="0.35"/>'
    font_size = 40 if len(bot.initials) == 1 else 32
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96" '
        f'role="img" aria-label="{escape(bot.name)}">'
        f"<title>{escape(bot.name)}</title>"
        f'<circle cx="48" cy="48" r="48" fill="{bot.colour}"/>'
        f"{accent}"
        f'<text x="48" y="50" text-anchor="middle" dominant-baseline="middle" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="{font_size}" font-weight="700" '
        f'fill="#FFFFFF">{escape(bot.initials)}</text>'
        "</svg>"
    )
