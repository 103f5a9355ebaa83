"""Word lists shared by the synthetic generators (written by this project; Apache-2.0)."""

from __future__ import annotations

import random

from synth_attacks import _parts

TOPICS = _parts(
    "the ocean¦cats¦autumn¦friendship¦coffee¦the city at night¦space travel¦mountains¦winter¦robots¦music¦"
    "the sea¦love¦time¦dogs¦rain¦summer holidays¦technology¦the stars¦childhood¦football¦chess¦the desert¦"
    "volcanoes¦bees¦trains¦the internet¦gardening¦history¦dinosaurs¦the moon¦baking¦jazz¦forests¦"
    "artificial intelligence¦climate¦democracy¦the Renaissance¦video games¦elections¦healthy eating¦"
    "cryptocurrency¦social media¦rivers¦birds¦electric cars¦remote work¦recycling¦the Olympics¦pirates"
)
CONCEPTS = _parts(
    "photosynthesis¦quantum entanglement¦inflation¦the theory of relativity¦blockchain¦machine learning¦"
    "the water cycle¦supply and demand¦black holes¦DNA replication¦compound interest¦the greenhouse effect¦"
    "natural selection¦plate tectonics¦the immune system¦neural networks¦the stock market¦gravity¦"
    "the Pythagorean theorem¦recursion¦cloud computing¦vaccination¦the French Revolution¦electricity¦"
    "public key cryptography¦the Big Bang¦evolution¦nuclear fusion¦the internet¦game theory¦entropy¦"
    "the Industrial Revolution¦opportunity cost¦climate change¦the human heart¦tides¦rainbows¦"
    "object-oriented programming¦the printing press¦volcanic eruptions¦the placebo effect¦osmosis¦"
    "the electoral college¦cognitive dissonance¦the Doppler effect¦carbon dating¦mitosis¦capitalism"
)
COUNTRIES = _parts(
    "Brazil¦Japan¦Canada¦Australia¦Egypt¦Norway¦Peru¦Kenya¦India¦Mexico¦Italy¦Vietnam¦Chile¦Poland¦"
    "Morocco¦Iceland¦Argentina¦Thailand¦Turkey¦Greece¦Portugal¦Nigeria¦Sweden¦Indonesia¦Spain¦Ghana¦"
    "New Zealand¦Colombia¦Finland¦South Korea"
)
LANGUAGES = _parts(
    "French¦Spanish¦German¦Italian¦Portuguese¦Japanese¦Chinese¦Russian¦Dutch¦Arabic¦Korean¦Hindi¦Turkish¦"
    "Polish¦Swedish¦Greek¦Latin¦Esperanto¦Klingon¦Pig Latin¦Swahili¦Vietnamese"
)
PERSON_NAMES = _parts(
    "Emma Johnson¦David Smith¦Maria Garcia¦James Lee¦Olivia Brown¦Lucas Martin¦Sofia Rossi¦Noah Wilson¦"
    "Mia Chen¦Ethan Davis¦Ava Patel¦Liam Nguyen¦Zoe Miller¦Omar Haddad¦Hannah Schmidt¦Yuki Tanaka¦"
    "Grace Kim¦Daniel Moore¦Chloe Martin¦Ben Carter"
)
PRODUCTS = _parts(
    "NordShield VPN¦the Acme Pro subscription¦CryptoMax wallet¦SuperClean detergent¦the Zenith 5 phone¦"
    "QuickLoans¦BrightPath courses¦FastTravel deals¦GlowSkin cream¦TurboFit protein¦SnapPhoto app¦"
    "MegaBet casino¦HomeChef meal kits¦ZenMind meditation app¦UltraSound headphones¦EcoRide scooters¦"
    "CloudBox storage¦PetJoy treats¦SmartHome hub¦LuxWatch replicas¦FreeMovies Plus¦CoinSwap exchange"
)
_DOMAINS = _parts(
    "example.com¦example.org¦promo-deals.net¦free-gifts.io¦secure-login.co¦update-center.xyz¦bestoffers.shop¦"
    "clickhere.info¦news-today.site¦crypto-bonus.app¦verify-account.org¦mail-sync.io¦files-share.net¦"
    "download-now.biz¦track.example¦cdn-assets.cc¦prize-claim.com¦my-survey.net¦cheap-meds.store¦"
    "tinyurl.example¦bit.example¦partner-site.com¦webhook.example¦data-collect.net¦collector.evil"
)


def domain(rng: random.Random) -> str:
    """A made-up (or reserved example) domain."""
    return rng.choice(_DOMAINS)


def url(rng: random.Random) -> str:
    """A made-up link."""
    scheme = rng.choice(["https://", "https://", "http://", "https://www.", "www."])
    path = rng.choice(["", "/", "/offer", "/login", "/claim", "/update", "/p/7781", "/deal?id=42", "/go", "/win"])
    return f"{scheme}{domain(rng)}{path}"
