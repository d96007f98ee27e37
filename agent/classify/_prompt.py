"""What the model reads: shared by training (sentencepiece ids) and the agent (llama.cpp ids).

Both sides build the prompt text with `prompt_text` and cut the token ids with `fit_ids`, so a
template is seen identically when the model is trained and when it is asked.
"""

from __future__ import annotations

DEFAULT_PROMPT = "{line}\n"
# Label tokens of the shipped model, in CATEGORIES order; appended to the vocabulary as normal
# tokens that no text ever produces (see ../shared/design/MODEL-NOTES.md §3).
LABEL_TOKEN = "<L:{}>"
MAX_PROMPT_TOKENS = 64    # BOS + template + tail; enough to name a template, keeps eval cheap
MODEL_CONTEXT = 128       # context the model is created with; prompts never reach it
MAX_TEMPLATE_CHARS = 400  # characters of a template put into the prompt before tokenizing


def prompt_text(template: bytes, prompt: str = DEFAULT_PROMPT) -> str:
    """The prompt for `template`: decoded with replacement, NULs dropped, length bounded."""
    # Invalid UTF-8 reaching the C tokenizer can abort the process, and a NUL silently ends
    # the C string; both are removed here, on the Python side.
    text = template.decode("utf-8", errors="replace").replace("\x00", " ")
    return prompt.replace("{line}", text[:MAX_TEMPLATE_CHARS])


def fit_ids(ids: list[int], tail: int, limit: int = MAX_PROMPT_TOKENS) -> list[int]:
    """`ids` cut to `limit`, keeping the first ones and the last `tail` (the prompt's suffix)."""
    if len(ids) <= limit:
        return ids
    return ids[: limit - tail] + ids[len(ids) - tail:]


def suffix_tokens(tokenize: object, prompt: str) -> int:
    """How many trailing ids the prompt's text after {line} adds (kept when cutting).

    `tokenize(text) -> list[int]` is the caller's tokenizer (with BOS); measured on a one-letter
    line so the suffix cannot merge with the line's last word.
    """
    assert callable(tokenize)
    head = prompt.split("{line}", 1)[0]
    whole = len(tokenize(prompt.replace("{line}", "x")))
    return max(0, whole - len(tokenize(head + "x")))
