"""Property files as Spinnaker reads them: JSON when the name contains .json, else Java
properties (java.util.Properties.load)."""

import pytest

from providers.dcos.metronome import PropertyFileError, parse_properties, parse_property_file


def test_a_name_containing_json_is_read_as_a_json_object():
    assert parse_property_file("result.json.txt", '{"a": [1, 2]}') == {"a": [1, 2]}


def test_json_that_is_not_an_object_is_refused():
    with pytest.raises(PropertyFileError, match="list, not an object"):
        parse_property_file("out.json", "[1]")


def test_broken_json_says_where():
    with pytest.raises(PropertyFileError, match="out.json is not valid JSON: .*line 1"):
        parse_property_file("out.json", '{"a": ')


def test_any_other_name_is_read_as_java_properties():
    assert parse_property_file("out.txt", "a=1") == {"a": "1"}


def test_the_three_separators_and_the_blanks_around_them():
    text = "a=1\nb : 2\nc   3\n  d=  4  \ne=\nf\n"
    assert parse_properties(text) == {"a": "1", "b": "2", "c": "3", "d": "4  ", "e": "", "f": ""}


def test_comments_and_blank_lines_are_skipped():
    text = "# a comment\n! another\n\n   \n  # indented comment\nkey=value # not a comment\n"
    assert parse_properties(text) == {"key": "value # not a comment"}


def test_a_trailing_backslash_continues_the_line_without_the_next_ones_indent():
    text = "fruits = apple, \\\n         banana, \\\n         pear\nnext=1\n"
    assert parse_properties(text) == {"fruits": "apple, banana, pear", "next": "1"}


def test_an_escaped_backslash_at_the_end_does_not_continue():
    assert parse_properties("path=c:\\\\\nnext=1") == {"path": "c:\\", "next": "1"}


def test_a_comment_ending_in_a_backslash_does_not_swallow_the_next_line():
    assert parse_properties("# note \\\nkey=1") == {"key": "1"}


def test_escapes_in_keys_and_values():
    text = "a\\=b\\:c\\ d=tab\\there\\nnew \\u00e9\\x\n"
    assert parse_properties(text) == {"a=b:c d": "tab\there\nnew éx"}


def test_a_malformed_unicode_escape_names_its_line():
    with pytest.raises(PropertyFileError, match="line 2: malformed"):
        parse_properties("ok=1\nbad=\\u12g4")


def test_windows_and_old_mac_line_ends_and_the_last_key_wins():
    assert parse_properties("a=1\r\nb=2\rc=3\na=4") == {"a": "4", "b": "2", "c": "3"}
