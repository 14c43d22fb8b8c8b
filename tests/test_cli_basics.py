from click.testing import CliRunner

from kinhteso.cli import main
from kinhteso.i18n import fmt_number


def test_help_lists_language_option():
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0
    assert "--lang" in r.output


def test_vietnamese_number_format():
    assert fmt_number(1234.5, 1, lang="vi") == "1.234,5"
    assert fmt_number(1234.5, 1, lang="en") == "1,234.5"
    assert fmt_number(None) == "–"
