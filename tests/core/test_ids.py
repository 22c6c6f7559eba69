from core import ids


def test_ids_have_openai_prefixes_and_sort_by_creation():
    made = [ids.new_id("message") for _ in range(2000)]
    assert all(ids.is_id("message", value) and len(value) == 4 + ids.BODY_LENGTH for value in made)
    assert made == sorted(made)
    assert ids.new_id("file").startswith("file-") and ids.new_id("assistant").startswith("asst_")


def test_descending_keys_reverse_the_order():
    made = [ids.new_id("run") for _ in range(500)]
    keys = [ids.descending(ids.body(value)) for value in made]
    assert keys == sorted(keys, reverse=True)


def test_is_id_rejects_other_shapes():
    good = ids.new_id("thread")
    assert not ids.is_id("message", good)
    assert not ids.is_id("thread", good + "x")
    assert not ids.is_id("thread", good[:-1] + "/")
    assert not ids.is_id("thread", "thread_abc")


def test_the_random_part_uses_the_whole_alphabet_in_every_position():
    randoms = [ids.body(ids.new_id("step"))[-15:] for _ in range(3000)]
    assert len(set(randoms)) == len(randoms)
    for position in (0, 7, 14):  # the first position too: a draw too small would leave it mostly "0"
        assert set(random[position] for random in randoms) == set(ids.ALPHABET)
