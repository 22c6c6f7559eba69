"""The one file name rule (core/filenames.py): uploads and code_interpreter's /mnt/data use it."""

import pytest

from core import filenames


@pytest.mark.parametrize("name, expected", [
    ("report.csv", "report.csv"),
    ("../../etc/passwd", "passwd"),
    ("/mnt/data/../../escape.txt", "escape.txt"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("C:\\Users\\me\\data.xlsx", "data.xlsx"),
    (".hidden", ".hidden"),
    ("a:b*c?.txt", "a_b_c_.txt"),
    ('<quoted> "x" | y.md', '_quoted_ _x_ _ y.md'),
    ("tab\there\x7f.txt", "tabhere.txt"),
    ("a\x00b\nc.csv", "abc.csv"),
    ("evil\u202egnp.exe", "evilgnp.exe"),
    ("zero\u200bwidth.txt", "zerowidth.txt"),
    ("  spaced.txt  ", "spaced.txt"),
    ("trailing. . .", "trailing"),
    ("données é.csv", "données é.csv"),
    ("e\u0301te\u0301.txt", "été.txt"),  # NFC: one code point per letter
    ("ü-ñíçødé.md", "ü-ñíçødé.md"),
    ("日本語のファイル.pdf", "日本語のファイル.pdf"),
    ("CON", "_CON"),
    ("nul.txt", "_nul.txt"),
    ("com1.tar.gz", "_com1.tar.gz"),
    ("console.txt", "console.txt"),
])
def test_sanitize(name, expected):
    assert filenames.sanitize(name) == expected


@pytest.mark.parametrize("name", ["", "   ", ".", "..", "...", "a/..", "\x00\x01", "dir/", "\u202e", ". ."])
def test_names_with_nothing_left_are_refused_or_take_the_default(name):
    assert filenames.sanitize(name) is None
    assert filenames.sanitize(name, default="file") == "file"


def test_long_names_fit_255_utf8_bytes_and_keep_their_extension():
    assert filenames.sanitize("x" * 300 + ".jsonl") == "x" * 249 + ".jsonl"
    assert filenames.sanitize("a" * 1000 + ".txt") == "a" * 251 + ".txt"
    assert len(filenames.sanitize("y" * 300)) == filenames.MAX_BYTES
    wide = filenames.sanitize("é" * 300 + ".csv")
    assert len(wide.encode()) <= 255 and wide.endswith(".csv") and set(wide[:-4]) == {"é"}
    no_real_extension = filenames.sanitize("b" * 300 + "." + "c" * 40)
    assert len(no_real_extension.encode()) == 255 and no_real_extension.startswith("b" * 255)


def test_sanitizing_is_idempotent():
    for name in ("../x/CON.txt", "é" * 300 + ".csv", "a:b.", " nul "):
        once = filenames.sanitize(name)
        assert filenames.sanitize(once) == once
