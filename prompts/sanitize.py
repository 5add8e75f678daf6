"""Neutralising patient text before it is put inside a prompt template.

Every template quotes the patient text as `"..."` (MentalLLaMA's `Consider this post: "..."`).
The text must not be able to close that quote, start a new chat turn or inject a tokenizer
special token, so we:

- replace every double-quote-like character with a plain apostrophe. MentalLLaMA's own data
  quotes posts without escaping (its queries contain `"okay"` inside the quoted post) and the
  model never saw backslash escapes, so swapping quote marks keeps the sense of the text while
  the only `"` left in a prompt are the template's own;
- defuse special-token look-alikes (`</s>`, `<s>`, `<unk>`, `<|...|>`): HF tokenizers turn such
  literal strings into control tokens (an early end of sequence) unless told otherwise;
- defuse chat role markers (`USER:`, `ASSISTANT:`, `SYSTEM:`) of the Vicuna format as `USER -`;
- drop control and invisible formatting characters (bidi overrides, zero-width), unify line
  endings, replace lone surrogates, and collapse runs of blank lines; words are never changed.

The result is what the model sees; the stored job keeps the original text.
"""

import re
import unicodedata

_DOUBLE_QUOTES = '"\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u301d\u301e\uff02'
_QUOTE_TABLE = str.maketrans(dict.fromkeys(_DOUBLE_QUOTES, "'"))
_SPECIAL_TOKEN = re.compile(r"<\s*(/?\s*s|unk|pad|\|[^<>|\n]{0,64}\|)\s*>", re.IGNORECASE)
_ROLE_MARKER = re.compile(r"\b(user|assistant|system)\s*:", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_KEEP_CONTROLS = {"\n", "\t"}


def _visible(ch: str) -> bool:
    if ch in _KEEP_CONTROLS:
        return True
    # Cc: control characters; Cf: invisible formatting (bidi overrides, zero-width spaces).
    return unicodedata.category(ch) not in ("Cc", "Cf")


def neutralize(text: str) -> str:
    """`text` made safe to place inside a quoted template field (see module docstring)."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if _visible(ch))
    text = text.translate(_QUOTE_TABLE)
    text = _SPECIAL_TOKEN.sub(lambda m: "\u2039" + m.group(1) + "\u203a", text)
    text = _ROLE_MARKER.sub(lambda m: m.group(1) + " -", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
