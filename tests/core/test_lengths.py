"""vcon.lengths: one grammar for Q, T and warm-up, the same spelling everywhere."""
import pytest

from vcon import lengths


@pytest.mark.parametrize("value, canonical, config_value", [
    (120, "120", 120), ("120", "120", 120), (120.0, "120", 120), (" 7 ", "7", 7), (0, "0", 0),
    ("12ep", "12ep", "12ep"), (" 12 EP ", "12ep", "12ep"), ("012ep", "12ep", "12ep"), ("1.5ep", "1.5ep", "1.5ep"),
    ("1.50ep", "1.5ep", "1.5ep"), ("0ep", "0ep", "0ep"),
])
def test_one_spelling(value, canonical, config_value):
    length = lengths.parse(value)
    assert (length.canonical, length.value) == (canonical, config_value)


@pytest.mark.parametrize("value", [1.5, -3, True, None, "12 epochs", "-1ep", "1.5", "ep", "1e3"])
def test_not_a_length(value):
    with pytest.raises(lengths.LengthError, match=r"^Q must be a step count >= 0 \(120\) or epochs written like "
                                                  r"'12ep', got "):
        lengths.parse(value, "Q")


def test_to_steps_rounds_epochs_to_the_nearest_step():
    assert lengths.to_steps("12ep", 391) == 4692
    assert lengths.to_steps("1.5ep", 7) == 10  # 10.5 rounds to even
    assert lengths.to_steps("0.5ep", 5) == 2  # 2.5 rounds to even
    assert lengths.to_steps(40, 7) == 40
    assert lengths.parse("0ep").is_zero and lengths.parse(0).is_zero and not lengths.parse("1ep").is_zero
