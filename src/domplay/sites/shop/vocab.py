"""The word lists the shop catalog is generated from (categories, brands, names, reviews).

Kept apart from the generator so that `data.py` reads as logic. Every list here is
fixed; only the choices made from them depend on the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

APPAREL_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SHOE_SIZES = ("6", "7", "8", "9", "10", "11", "12", "13")
BED_SIZES = ("Twin", "Full", "Queen", "King")

COLOURS = (
    "Black",
    "White",
    "Grey",
    "Navy",
    "Blue",
    "Red",
    "Green",
    "Olive",
    "Beige",
    "Brown",
    "Pink",
    "Yellow",
    "Orange",
    "Purple",
    "Teal",
    "Silver",
)


@dataclass(frozen=True)
class CategorySpec:
    """How to make the products of one category."""

    slug: str
    name: str
    nouns: tuple[str, ...]
    adjectives: tuple[str, ...]
    materials: tuple[str, ...]
    price_range_usd: tuple[int, int]
    sizes: tuple[str, ...]
    """Size scheme of the category; empty for products that come in one size."""


CATEGORY_SPECS: tuple[CategorySpec, ...] = (
    CategorySpec(
        "knitwear",
        "Knitwear",
        ("Sweater", "Cardigan", "Turtleneck", "Vest", "Hoodie", "Pullover"),
        ("Nordic", "Alpine", "Cozy", "Classic", "Chunky", "Harbor", "Fjord", "Heritage"),
        ("Wool", "Merino", "Cashmere", "Cotton", "Alpaca"),
        (29, 189),
        APPAREL_SIZES,
    ),
    CategorySpec(
        "tops",
        "Tops & Shirts",
        ("T-Shirt", "Oxford Shirt", "Polo", "Henley", "Blouse", "Tank Top", "Flannel Shirt"),
        ("Everyday", "Slim", "Relaxed", "Vintage", "Coastal", "Urban", "Essential"),
        ("Cotton", "Linen", "Organic Cotton", "Jersey", "Chambray"),
        (12, 79),
        APPAREL_SIZES,
    ),
    CategorySpec(
        "outerwear",
        "Outerwear",
        ("Parka", "Rain Jacket", "Bomber Jacket", "Trench Coat", "Puffer Jacket", "Windbreaker"),
        ("Storm", "Summit", "Metro", "Arctic", "Trail", "Harbor", "Expedition"),
        ("Nylon", "Down", "Waxed Cotton", "Softshell", "Gore-Tex"),
        (59, 349),
        APPAREL_SIZES,
    ),
    CategorySpec(
        "footwear",
        "Footwear",
        ("Sneakers", "Hiking Boots", "Loafers", "Running Shoes", "Chelsea Boots", "Sandals"),
        ("Cloud", "Trail", "Street", "Classic", "Swift", "Ridge", "Canyon"),
        ("Leather", "Suede", "Mesh", "Canvas", "Knit"),
        (39, 229),
        SHOE_SIZES,
    ),
    CategorySpec(
        "activewear",
        "Activewear",
        ("Leggings", "Running Shorts", "Sports Bra", "Track Jacket", "Training Tee", "Joggers"),
        ("Flex", "Pace", "Sprint", "Core", "Tempo", "Aero", "Motion"),
        ("Stretch", "Dri-Fit", "Recycled Poly", "Bamboo", "Seamless"),
        (19, 119),
        APPAREL_SIZES,
    ),
    CategorySpec(
        "bags",
        "Bags & Accessories",
        ("Backpack", "Tote Bag", "Wallet", "Belt", "Duffel Bag", "Crossbody Bag", "Beanie"),
        ("Urban", "Voyager", "Minimal", "Heritage", "Nomad", "Compact", "Weekend"),
        ("Canvas", "Leather", "Nylon", "Felt", "Cork"),
        (15, 249),
        (),
    ),
    CategorySpec(
        "kitchen",
        "Kitchen",
        ("Frying Pan", "Chef Knife", "Kettle", "Dutch Oven", "Cutting Board", "French Press", "Mixing Bowl Set"),
        ("Pro", "Artisan", "Everyday", "Rustic", "Precision", "Bistro", "Heritage"),
        ("Stainless", "Cast Iron", "Ceramic", "Bamboo", "Copper"),
        (14, 259),
        (),
    ),
    CategorySpec(
        "home-decor",
        "Home Decor",
        ("Table Lamp", "Vase", "Throw Blanket", "Wall Clock", "Candle Set", "Mirror", "Cushion Cover"),
        ("Scandi", "Boho", "Modern", "Coastal", "Terra", "Lunar", "Haven"),
        ("Ceramic", "Linen", "Brass", "Glass", "Oak"),
        (12, 199),
        (),
    ),
    CategorySpec(
        "electronics",
        "Electronics",
        (
            "Wireless Headphones",
            "Bluetooth Speaker",
            "Power Bank",
            "Smartwatch",
            "Webcam",
            "Mechanical Keyboard",
            "USB-C Charger",
        ),
        ("Pulse", "Nova", "Echo", "Vertex", "Quantum", "Orbit", "Spark"),
        ("Aluminum", "Matte", "Graphite", "Carbon", "Compact"),
        (19, 399),
        (),
    ),
    CategorySpec(
        "outdoor",
        "Sports & Outdoors",
        ("Yoga Mat", "Camping Tent", "Water Bottle", "Sleeping Bag", "Trekking Poles", "Headlamp", "Dry Bag"),
        ("Summit", "Basecamp", "Trailhead", "Ridge", "Wild", "Alpine", "Canyon"),
        ("Ultralight", "Insulated", "Recycled", "Titanium", "Ripstop"),
        (9, 299),
        (),
    ),
    CategorySpec(
        "bedding",
        "Bedding",
        ("Duvet Cover", "Sheet Set", "Pillowcase Pair", "Quilt", "Mattress Topper", "Comforter"),
        ("Cloud", "Serene", "Hotel", "Dreamy", "Nordic", "Meadow", "Classic"),
        ("Percale", "Sateen", "Linen", "Flannel", "Bamboo"),
        (25, 279),
        BED_SIZES,
    ),
    CategorySpec(
        "toys",
        "Toys & Games",
        ("Puzzle", "Board Game", "Building Set", "Plush Bear", "Kite", "Card Game", "Train Set"),
        ("Galaxy", "Jungle", "Rainbow", "Pirate", "Dino", "Castle", "Rocket"),
        ("Wooden", "Deluxe", "Mini", "Classic", "Family"),
        (8, 89),
        (),
    ),
)

BRAND_NAMES: tuple[str, ...] = (
    "Nordwind",
    "Alder & Co",
    "Kestrel",
    "Lumen",
    "Brightline",
    "Fjellhus",
    "Copperleaf",
    "Marlow",
    "Tidewater",
    "Summit Gear",
    "Pixelwave",
    "Oakhaven",
    "Velora",
    "Halcyon",
    "Ironbark",
    "Bluefin",
    "Cedar Lane",
    "Solstice",
    "Quillsworth",
    "Northstar",
    "Riverstone",
    "Evergreen Labs",
    "Amberly",
    "Zephyr",
    "Granite Peak",
)

BRANDS_PER_CATEGORY = (4, 6)
"""Inclusive range of how many brands sell in one category."""

FIRST_NAMES = (
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elif",
    "Farah",
    "Gustav",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nina",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Yusuf",
    "Zoe",
)
LAST_INITIALS = "ABCDEFGHJKLMNPRSTW"

REVIEW_TITLES: dict[int, tuple[str, ...]] = {
    1: ("Disappointed", "Fell apart quickly", "Would not buy again", "Not as described"),
    2: ("Meh", "Below expectations", "Quality issues", "Not great"),
    3: ("It's okay", "Average", "Does the job", "Mixed feelings"),
    4: ("Very good", "Happy with it", "Solid choice", "Nice quality"),
    5: ("Love it", "Excellent quality", "Perfect", "Best purchase this year"),
}
REVIEW_BODIES: dict[int, tuple[str, ...]] = {
    1: ("The {noun} broke within a week.", "Cheap feel and the colour faded fast.", "Returned my {noun} the next day."),
    2: (
        "The {noun} is smaller than the photos suggest.",
        "Works, but the finish is rough.",
        "Expected more for the price.",
    ),
    3: ("A decent {noun}, nothing special.", "Fine for everyday use.", "Good value, a few flaws."),
    4: ("Well made {noun}, would recommend.", "Comfortable and looks great.", "Arrived quickly and works as promised."),
    5: ("This {noun} exceeded my expectations.", "Outstanding craftsmanship.", "I bought a second one as a gift."),
}

CUSTOMER_STREETS = ("12 Harbor Road", "48 Linden Avenue", "7 Mill Lane", "301 Cedar Street", "95 Orchard Way")
CUSTOMER_PLACES = (  # (city, postal code, country): valid under the checkout's postal rules
    ("Portland", "97205", "United States"),
    ("Toronto", "M5V 2T6", "Canada"),
    ("Berlin", "10115", "Germany"),
    ("Lyon", "69002", "France"),
    ("Manchester", "M1 1AE", "United Kingdom"),
)
