"""General-domain negatives: everyday posts with no sign of depression or stress.

IMHI's DR posts come from depression forums (80% "yes"), so a model trained on them alone calls
every post depressed. These posts, from a seeded generator written for this purpose (no
third-party text, so no licence question), teach it that ordinary life is "no". They are
training data only: the figures on everyday text come from hand-written posts kept apart
(tests/data/fresh_posts.jsonl), which no generator produced.
"""
from __future__ import annotations

import random

from .data import Example

_OPENINGS = [
    "Spent the morning {activity}.", "Finally got around to {activity} today.",
    "Quick update: I was {activity} most of the afternoon.", "This weekend was all about {activity}.",
    "Took the day off and went {activity}.", "After work I ended up {activity}.",
    "Tried {activity} for the first time yesterday.", "Sunday plan: {activity}, then nothing at all.",
    "We spent the evening {activity}.", "Been {activity} a lot lately.",
]
_ACTIVITIES = [
    "baking sourdough", "repotting the tomato plants", "walking the dog by the river",
    "cleaning out the garage", "fixing the kitchen tap", "reading a history of the Roman roads",
    "painting the spare room", "learning a few chords on the ukulele", "running the 5k loop in the park",
    "helping my sister move flats", "testing a new curry recipe", "building a bookshelf from a kit",
    "birdwatching at the lake", "sorting old photos into albums", "knitting a scarf for winter",
    "planning the garden beds", "playing board games with the neighbours", "cycling to the coast",
    "watching the cup final with friends", "trying out the new climbing gym", "making pickles",
    "organising the pantry", "volunteering at the food bank", "swimming laps at the public pool",
    "fishing off the pier", "researching a trip to Portugal", "brewing cold coffee", "shopping for a new bike",
    "teaching my nephew chess", "writing a short story for a contest", "camping in the hills",
    "visiting the science museum", "washing the car", "practising Spanish on the app",
    "setting up a bird feeder", "grilling burgers in the yard", "fixing up an old radio",
]
_DETAILS = [
    "The weather held up nicely.", "It took longer than expected but it came out fine.",
    "My partner helped with the tricky bits.", "Got some good photos too.",
    "The kids loved it.", "Nothing fancy, but it worked.", "We had lunch at the little cafe on the corner.",
    "Bought the supplies at the hardware store on Main Street.", "The instructions were surprisingly clear.",
    "Ran into an old colleague on the way.", "Traffic was light for once.", "It rained a bit in the afternoon.",
    "The recipe needed more salt than it said.", "Found a great podcast to listen to while doing it.",
    "Cost less than I thought.", "The dog was exhausted afterwards.", "Need to buy more paint for the second coat.",
    "The neighbours came over to have a look.", "Already planning the next one.",
]
_MOODS = [
    "Feeling pretty good about it.", "Nice and relaxed now.", "Good day overall.", "Happy with how it went.",
    "Tired in a good way.", "Looking forward to the week.", "Pleasantly surprised, honestly.",
    "It was fun.", "Content.", "Can't complain.", "Slept really well afterwards.", "A good change of pace.",
    "Glad I made the time for it.", "Small win, but I'll take it.",
]
_QUESTIONS = [
    "Any tips for next time?", "Anyone else tried this?", "What should I try next?",
    "Recommendations for a beginner?", "Does anyone know a good place for supplies?", "",
    "", "",
]
_REASONS = {
    "imhi.dr": "no. Reasoning: The post describes ordinary daily activities in a settled, positive mood, "
               "with no expression of sadness, hopelessness or loss of interest.",
    "imhi.dreaddit": "no. Reasoning: The post describes everyday activities calmly and shows no sign of "
                     "pressure, worry or distress.",
}


def everyday_post(rng: random.Random) -> str:
    parts = [rng.choice(_OPENINGS).format(activity=rng.choice(_ACTIVITIES))]
    parts += rng.sample(_DETAILS, rng.randint(1, 3))
    parts.append(rng.choice(_MOODS))
    parts.append(rng.choice(_QUESTIONS))
    return " ".join(p for p in parts if p)


def everyday_examples(count: int, seed: int = 0) -> list[Example]:
    """``count`` posts per question type (DR and Dreaddit), each answered "no"."""
    rng = random.Random(seed)
    out = []
    for type_name, answer in _REASONS.items():
        task = "DR" if type_name == "imhi.dr" else "dreaddit"
        out += [Example(type_name, everyday_post(rng), answer, "no", f"everyday:{task}") for _ in range(count)]
    return out
