"""Hypothesis strategies shared by the fuzz tests: any JSON a client could send (NaN and Infinity included,
which Python's json reads), and keys that are not fields."""
from hypothesis import strategies as st

SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
KEY_TEXT = st.text(max_size=20)


@st.composite
def bodies(draw, fields: dict):
    """A JSON object with some of `fields` (each drawn from its strategy) and now and then a stray key; one
    time in ten any JSON value at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON_VALUES)
    body = {key: draw(fields[key]) for key in sorted(draw(st.sets(st.sampled_from(sorted(fields)))))}
    if draw(st.integers(0, 7)) == 0:
        body[draw(KEY_TEXT)] = draw(JSON_VALUES)
    return body
