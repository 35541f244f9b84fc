"""Word banks the forum generator draws from: boards, topics, title and body patterns.

Each board has its own subjects so that search by keyword and filtering by board give
different, meaningful result sets.
"""

from __future__ import annotations

BOARDS: tuple[tuple[str, str, str], ...] = (
    ("gardening", "Gardening", "Vegetables, flowers, soil and pests."),
    ("cooking", "Cooking", "Recipes, techniques and kitchen gear."),
    ("cycling", "Cycling", "Bikes, repairs, routes and training."),
    ("photography", "Photography", "Cameras, lenses, editing and critique."),
    ("programming", "Programming", "Code, tools, languages and careers."),
    ("travel", "Travel", "Trips, itineraries, packing and visas."),
)

SUBJECTS: dict[str, tuple[str, ...]] = {
    "gardening": ("tomatoes", "raised beds", "compost", "roses", "aphids", "basil", "drip irrigation",
                  "clay soil", "seed starting", "potatoes", "mulch", "fruit trees"),
    "cooking": ("sourdough", "cast iron", "risotto", "knife sharpening", "curry", "meal prep",
                "pizza dough", "fermentation", "stock", "pancakes", "dumplings", "spices"),
    "cycling": ("tubeless tires", "chain wear", "gravel bikes", "saddle height", "disc brakes",
                "commuting", "hill climbs", "bike fit", "winter riding", "derailleurs", "touring",
                "cadence"),
    "photography": ("prime lenses", "night sky", "portraits", "tripods", "raw editing", "film cameras",
                    "street photography", "flash", "macro", "exposure", "autofocus", "color grading"),
    "programming": ("python typing", "unit tests", "git rebase", "docker images", "sql indexes",
                    "rust lifetimes", "code review", "regex", "async io", "memory leaks", "api design",
                    "css grid"),
    "travel": ("japan rail pass", "carry-on packing", "lisbon", "hostels", "travel insurance",
               "jet lag", "iceland ring road", "visa on arrival", "night trains", "budget airlines",
               "patagonia", "street food"),
}

TAGS: dict[str, tuple[str, ...]] = {
    "gardening": ("beginner", "organic", "pests", "soil", "vegetables", "flowers"),
    "cooking": ("beginner", "baking", "vegetarian", "equipment", "recipe", "quick"),
    "cycling": ("beginner", "maintenance", "gear", "training", "routes", "safety"),
    "photography": ("beginner", "gear", "editing", "critique", "technique", "lenses"),
    "programming": ("beginner", "python", "rust", "tooling", "career", "databases"),
    "travel": ("beginner", "budget", "europe", "asia", "itinerary", "gear"),
}

TITLE_PATTERNS: tuple[str, ...] = (
    "How do I get started with {s}?",
    "Best advice for {s}",
    "Problems with {s} this season",
    "Is {s} worth it?",
    "My experience with {s}",
    "Question about {s}",
    "{S}: what am I doing wrong?",
    "Recommendations for {s}",
    "Finally figured out {s}",
    "Beginner guide to {s}",
    "{S} vs the alternatives",
    "Need help with {s} today",
)

OPENING_SENTENCES: tuple[str, ...] = (
    "I have been looking into {s} for a few weeks now and I am still unsure where to begin.",
    "Last weekend I tried {s} for the first time and it did not go as planned.",
    "Everyone keeps recommending {s}, so I want to hear real experiences before I commit.",
    "After reading a lot about {s} I made a list of questions.",
    "Here is what I learned about {s} after a full year of trying.",
)

REPLY_SENTENCES: tuple[str, ...] = (
    "I had the same issue with {s} and patience fixed most of it.",
    "Start small with {s} and keep notes on what changes.",
    "Honestly {s} was the best decision I made last year.",
    "Check the basics first; most trouble with {s} comes from skipping them.",
    "There is a great chapter on {s} in the wiki pinned at the top of this board.",
    "I disagree, {s} is overrated for beginners.",
    "Thanks, this helped me a lot with {s}.",
    "Could you post a photo or more details about your setup?",
    "Same here. Following this thread.",
    "Try asking at a local club, people there know {s} well.",
    "It took me three attempts before {s} clicked for me.",
    "Budget matters less than people think for {s}.",
)

FIRST_NAMES: tuple[str, ...] = (
    "anna", "ben", "carla", "dev", "elena", "farid", "grace", "hugo", "ines", "jonas", "kemal", "lena",
    "mateo", "nadia", "oscar", "priya", "quinn", "rosa", "sami", "tara", "umar", "vera", "wes", "xia",
    "yusuf", "zoe", "aiko", "bruno", "chloe", "dmitri", "esme", "felix", "gita", "hana", "ivan", "jade",
    "kofi", "lucia", "milan", "noor", "olga", "pablo", "rhea", "sven",
)

USER_SUFFIXES: tuple[str, ...] = (
    "_writes", "_rides", "_cooks", "_grows", "_codes", "_travels", "_snaps", "", "_k", "_m", "_99",
)

PASSWORD_WORDS: tuple[str, ...] = (
    "maple", "river", "copper", "lantern", "orbit", "pepper", "meadow", "falcon", "harbor", "cedar",
    "willow", "ember", "summit", "violet", "pebble", "thistle",
)

BIO_PATTERNS: tuple[str, ...] = (
    "Weekend {b} enthusiast.",
    "Into {b} since forever.",
    "Mostly lurking on the {b} board.",
    "Asking too many questions about {b}.",
    "Happy to help with anything {b}.",
)
