"""What to upload and what to return (workspace.py): the rules both sandboxes share, without a sandbox."""

from tools.code_interpreter.sandbox import InputFile
from tools.code_interpreter.workspace import Workspace, changed, too_large, with_notes


def _input(name: str, key: str) -> InputFile:
    return InputFile(name, key, lambda: (0, []))


def test_an_input_is_written_unless_held_unchanged_under_its_name():
    held = Workspace()
    first = _input("../data.csv", "file-1")
    assert [name for name, _ in held.missing([first], {})] == ["data.csv"]
    held.wrote("data.csv", "file-1", (10, 1))
    assert held.missing([first], {"data.csv": (10, 1)}) == []
    assert [n for n, _ in held.missing([first], {"data.csv": (11, 2)})] == ["data.csv"]  # the code changed it
    assert [n for n, _ in held.missing([first], {})] == ["data.csv"]  # the code deleted it
    assert [n for n, _ in held.missing([_input("data.csv", "file-2")], {"data.csv": (10, 1)})] == ["data.csv"]
    held.forget("data.csv")
    assert [n for n, _ in held.missing([first], {"data.csv": (10, 1)})] == ["data.csv"]


def test_inputs_of_one_name_are_written_once_the_last_winning():
    held = Workspace()
    missing = held.missing([_input("a/x.csv", "one"), _input("b/x.csv", "two"), _input("", "three")], {})
    assert [(name, item.key) for name, item in missing] == [("x.csv", "two"), ("file", "three")]


def test_changed_files_are_new_or_different_ones_never_scratch_files():
    before = {"kept.csv": (1, 1), "edited.csv": (1, 1)}
    after = {"kept.csv": (1, 1), "edited.csv": (2, 5), "new.png": (9, 9), ".upload-abc": (3, 3)}
    assert changed(before, after) == ["edited.csv", "new.png"]


def test_notes_follow_the_logs_on_their_own_lines():
    assert with_notes("out", []) == "out"
    assert with_notes("out", ["[a]", "[b]"]) == "out\n[a]\n[b]"
    assert with_notes("out\n", ["[a]"]) == "out\n[a]"
    assert with_notes("", ["[a]"]) == "[a]"
    assert too_large("big.bin", 1000) == "[/mnt/data/big.bin not returned: larger than 1,000 bytes]"
